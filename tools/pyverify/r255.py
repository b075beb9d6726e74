"""Ristretto255 (RFC 9496), Ed25519 verification (RFC 8032) and
expand_message_xmd (RFC 9380 §5.3.1), standard library only.

Written from the RFCs for the independent Urna verifier. Not constant time:
a verifier handles public data only.
"""

import hashlib

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # group order ℓ

D = 37095705934669439343138083508754565189542113879843219016388785533085940283555
SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752
SQRT_AD_MINUS_ONE = 25063068953384623474111414158702152701244531502492656460079210482610430750235
INVSQRT_A_MINUS_D = 54469307008909316920995813868745141605393597292927456921205312896311721017578


def _neg(x):
    return x % P & 1 == 1


def _abs(x):
    x %= P
    return (P - x) % P if x & 1 else x


def sqrt_ratio_m1(u, v):
    """RFC 9496 §4.2: returns (was_square, r)."""
    u %= P
    v %= P
    v3 = v * v % P * v % P
    v7 = v3 * v3 % P * v % P
    r = u * v3 % P * pow(u * v7 % P, (P - 5) // 8, P) % P
    check = v * r % P * r % P
    correct = check == u
    flipped = check == (-u) % P
    flipped_i = check == (-u * SQRT_M1) % P
    if flipped or flipped_i:
        r = r * SQRT_M1 % P
    r = _abs(r)
    return (correct or flipped), r


class Point:
    """A point of edwards25519 in extended coordinates (X:Y:Z:T)."""

    __slots__ = ("X", "Y", "Z", "T")

    def __init__(self, X, Y, Z, T):
        self.X, self.Y, self.Z, self.T = X, Y, Z, T

    def __add__(self, o):
        A = (self.Y - self.X) * (o.Y - o.X) % P
        B = (self.Y + self.X) * (o.Y + o.X) % P
        C = 2 * D * self.T % P * o.T % P
        DD = 2 * self.Z * o.Z % P
        E, F, G_, H = B - A, DD - C, DD + C, B + A
        return Point(E * F % P, G_ * H % P, F * G_ % P, E * H % P)

    def __neg__(self):
        return Point((-self.X) % P, self.Y, self.Z, (-self.T) % P)

    def __sub__(self, o):
        return self + (-o)

    def double(self):
        return self + self

    def __mul__(self, k):
        """Scalar multiplication k·self (k any integer, reduced mod ℓ —
        valid for points of the prime-order subgroup / Ristretto group)."""
        k %= L
        if self is BASE:
            return base_mul(k)
        return self.mul_raw(k)

    __rmul__ = __mul__

    def mul_raw(self, k):
        """k·self without reducing k (for Ed25519 cofactor-sensitive use)."""
        res = IDENTITY
        q = self
        while k:
            if k & 1:
                res = res + q
            q = q + q
            k >>= 1
        return res

    # --- Ristretto255 -------------------------------------------------
    def r_eq(self, o):
        """Ristretto equality (RFC 9496 §4.5)."""
        return (self.X * o.Y - self.Y * o.X) % P == 0 or (self.Y * o.Y - self.X * o.X) % P == 0

    def is_r_identity(self):
        return self.r_eq(IDENTITY)

    def encode(self):
        """RFC 9496 §4.3.2."""
        x0, y0, z0, t0 = self.X, self.Y, self.Z, self.T
        u1 = (z0 + y0) * (z0 - y0) % P
        u2 = x0 * y0 % P
        _, invsqrt = sqrt_ratio_m1(1, u1 * u2 % P * u2 % P)
        den1 = invsqrt * u1 % P
        den2 = invsqrt * u2 % P
        z_inv = den1 * den2 % P * t0 % P
        ix0 = x0 * SQRT_M1 % P
        iy0 = y0 * SQRT_M1 % P
        enchanted = den1 * INVSQRT_A_MINUS_D % P
        rotate = _neg(t0 * z_inv)
        if rotate:
            x, y, den_inv = iy0, ix0, enchanted
        else:
            x, y, den_inv = x0, y0, den2
        z = z0
        if _neg(x * z_inv):
            y = (-y) % P
        s = _abs(den_inv * (z - y))
        return s.to_bytes(32, "little")

    # --- Ed25519 --------------------------------------------------------
    def ed_eq(self, o):
        return (self.X * o.Z - o.X * self.Z) % P == 0 and (self.Y * o.Z - o.Y * self.Z) % P == 0


IDENTITY = Point(0, 1, 1, 0)

_by = 4 * pow(5, P - 2, P) % P
_bx2 = (_by * _by - 1) * pow(D * _by * _by + 1, P - 2, P) % P
_bx = pow(_bx2, (P + 3) // 8, P)
if (_bx * _bx - _bx2) % P != 0:
    _bx = _bx * SQRT_M1 % P
if _bx & 1:
    _bx = P - _bx
BASE = Point(_bx, _by, 1, _bx * _by % P)

_BASE_POW2 = []
_q = BASE
for _i in range(253):
    _BASE_POW2.append(_q)
    _q = _q + _q


def base_mul(k):
    k %= L
    res = IDENTITY
    i = 0
    while k:
        if k & 1:
            res = res + _BASE_POW2[i]
        k >>= 1
        i += 1
    return res


class DecodeError(ValueError):
    pass


def decode(b, allow_identity=True):
    """RFC 9496 §4.3.1 decoding of a 32-byte Ristretto255 element."""
    if len(b) != 32:
        raise DecodeError("element: wrong length")
    s = int.from_bytes(b, "little")
    if s >= P:
        raise DecodeError("element: non-canonical field encoding")
    if _neg(s):
        raise DecodeError("element: negative field element")
    ss = s * s % P
    u1 = (1 - ss) % P
    u2 = (1 + ss) % P
    u2_sqr = u2 * u2 % P
    v = (-(D * u1 % P * u1) - u2_sqr) % P
    was_square, invsqrt = sqrt_ratio_m1(1, v * u2_sqr % P)
    den_x = invsqrt * u2 % P
    den_y = invsqrt * den_x % P * v % P
    x = _abs(2 * s * den_x)
    y = u1 * den_y % P
    t = x * y % P
    if not was_square or _neg(t) or y == 0:
        raise DecodeError("element: invalid encoding")
    pt = Point(x, y, 1, t)
    if not allow_identity and pt.is_r_identity():
        raise DecodeError("element: identity not allowed")
    return pt


def decode_scalar(b):
    if len(b) != 32:
        raise DecodeError("scalar: wrong length")
    v = int.from_bytes(b, "little")
    if v >= L:
        raise DecodeError("scalar: non-canonical (>= l)")
    return v


# --- RFC 9496 §4.3.4 one-way map, RFC 9380 hash_to_ristretto255 -----------

ONE_MINUS_D_SQ = (1 - D * D) % P
D_MINUS_ONE_SQ = (D - 1) * (D - 1) % P


def _elligator(t):
    """MAP of RFC 9496 §4.3.4: a field element to a point."""
    r = SQRT_M1 * t % P * t % P
    u = (r + 1) * ONE_MINUS_D_SQ % P
    v = (-1 - r * D) * (r + D) % P
    was_square, s = sqrt_ratio_m1(u, v)
    s_prime = (-_abs(s * t)) % P
    if not was_square:
        s = s_prime
    c = (P - 1) if was_square else r
    n = (c * (r - 1) % P * D_MINUS_ONE_SQ - v) % P
    w0 = 2 * s * v % P
    w1 = n * SQRT_AD_MINUS_ONE % P
    w2 = (1 - s * s) % P
    w3 = (1 + s * s) % P
    return Point(w0 * w3 % P, w2 * w1 % P, w1 * w3 % P, w0 * w2 % P)


def from_uniform_bytes(b):
    """RFC 9496 §4.3.4: 64 uniform bytes to an element (two maps, added)."""
    mask = (1 << 255) - 1
    r0 = (int.from_bytes(b[:32], "little") & mask) % P
    r1 = (int.from_bytes(b[32:64], "little") & mask) % P
    return _elligator(r0) + _elligator(r1)


def hash_to_element(msg, dst):
    """hash_to_ristretto255 (RFC 9380 Appendix B, suite
    ristretto255_XMD:SHA-512_R255MAP_RO_)."""
    return from_uniform_bytes(expand_message_xmd_sha512(msg, dst, 64))


# --- RFC 9380 §5.3.1 ------------------------------------------------------

def expand_message_xmd_sha512(msg, dst, len_in_bytes):
    b_in_bytes, r_in_bytes = 64, 128
    if len(dst) > 255:
        raise ValueError("DST too long")
    ell = -(-len_in_bytes // b_in_bytes)
    if ell > 255 or len_in_bytes > 65535:
        raise ValueError("too long")
    dst_prime = dst + bytes([len(dst)])
    z_pad = bytes(r_in_bytes)
    l_i_b_str = len_in_bytes.to_bytes(2, "big")
    msg_prime = z_pad + msg + l_i_b_str + b"\x00" + dst_prime
    b0 = hashlib.sha512(msg_prime).digest()
    bi = hashlib.sha512(b0 + b"\x01" + dst_prime).digest()
    out = bi
    for i in range(2, ell + 1):
        bi = hashlib.sha512(bytes(x ^ y for x, y in zip(b0, bi)) + bytes([i]) + dst_prime).digest()
        out += bi
    return out[:len_in_bytes]


def hash_to_scalar(msg, dst):
    return int.from_bytes(expand_message_xmd_sha512(msg, dst, 64), "little") % L


# --- RFC 8032 §5.1.7 Ed25519 verification -----------------------------------

def _ed_decode(b):
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= P:
        return None
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) % P * pow(u * pow(v, 7, P) % P, (P - 5) // 8, P) % P
    vx2 = v * x * x % P
    if vx2 == u:
        pass
    elif vx2 == (-u) % P:
        x = x * SQRT_M1 % P
    else:
        return None
    if x == 0 and sign == 1:
        return None
    if x & 1 != sign:
        x = P - x
    return Point(x, y, 1, x * y % P)


def ed25519_verify(pub, msg, sig):
    """RFC 8032 §5.1.7 (checks the cofactored equation [8][S]B = [8]R + [8][k]A)."""
    if len(pub) != 32 or len(sig) != 64:
        return False
    A = _ed_decode(pub)
    R = _ed_decode(sig[:32])
    if A is None or R is None:
        return False
    S = int.from_bytes(sig[32:], "little")
    if S >= L:
        return False
    k = int.from_bytes(hashlib.sha512(sig[:32] + pub + msg).digest(), "little") % L
    lhs = base_mul(S)
    rhs = R + A.mul_raw(k)
    lhs8 = lhs.mul_raw(8)
    rhs8 = rhs.mul_raw(8)
    return lhs8.ed_eq(rhs8)
