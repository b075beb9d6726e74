#!/usr/bin/env bash
# .ci/smtp.sh: make a local SMTP server (Debian's postfix) available for the
# mailer tests, with STARTTLS required.
#
# Installs postfix from Debian's packages when it is missing, makes a
# self-signed certificate for 127.0.0.1 and localhost, has postfix listen
# on 127.0.0.1:2525 only, refuse every MAIL before STARTTLS
# (smtpd_tls_security_level=encrypt), and deliver the domain urna.test to
# Maildir mailboxes under $MAILDIR: alice, bob and carol exist, any other
# recipient is refused at RCPT TO (550).
#
# A second port, 127.0.0.1:2526, delivers only for a client that logged
# in with SMTP AUTH (Cyrus SASL, PLAIN or LOGIN, from a sasldb of its own
# under $CONF, after STARTTLS only; /etc/postfix/sasl/urna-smtpd.conf): user "ca" (realm urna.test), with a
# random password made once and kept, owner-only, in $CONF/auth-password.
#
# Prints lines for the caller to eval:
#
#   eval "$(bash .ci/smtp.sh)"  # sets URNA_TEST_SMTP, URNA_TEST_SMTP_CA, URNA_TEST_SMTP_MAILDIR,
#                               # URNA_TEST_SMTP_AUTH, URNA_TEST_SMTP_USER, URNA_TEST_SMTP_PASSWORD_FILE
#
# Idempotent. Must run as root. Everything but the export lines goes to stderr.
set -euo pipefail

log() { printf 'smtp.sh: %s\n' "$*" >&2; }

PORT=${URNA_SMTP_PORT:-2525}
AUTH_PORT=${URNA_SMTP_AUTH_PORT:-2526}
AUTH_USER=ca
CONF=/etc/postfix/urna-ci
MAILDIR=/var/mail/urna-ci
VUID=5025

if [ "$(id -u)" -ne 0 ]; then
	log "must run as root"
	exit 1
fi

if ! command -v postfix >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1 ||
	! command -v saslpasswd2 >/dev/null 2>&1 || ! ls /usr/lib/*/sasl2/libsasldb.so >/dev/null 2>&1; then
	log "installing postfix and Cyrus SASL"
	export DEBIAN_FRONTEND=noninteractive
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	aptlog=$(mktemp)
	if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends postfix openssl ca-certificates sasl2-bin libsasl2-modules libsasl2-modules-db; } >"$aptlog" 2>&1; then
		cat "$aptlog" >&2
		rm -f "$aptlog"
		log "apt-get failed"
		exit 1
	fi
	rm -f "$aptlog"
fi

mkdir -p "$CONF"
if [ ! -s "$CONF/cert.pem" ]; then
	log "making a self-signed certificate"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
		-subj "/CN=urna-ci-smtp" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$CONF/key.pem" -out "$CONF/cert.pem" 2>/dev/null
	chmod 600 "$CONF/key.pem"
	chmod 644 "$CONF/cert.pem"
fi
[ -f /etc/postfix/main.cf ] || touch /etc/postfix/main.cf

cat >"$CONF/mailboxes" <<MAP
alice@urna.test urna.test/alice/
bob@urna.test urna.test/bob/
carol@urna.test urna.test/carol/
MAP
mkdir -p "$MAILDIR"
chown "$VUID:$VUID" "$MAILDIR"

# SMTP AUTH: the password (made once), the sasldb holding it (written
# again each run, so that it always matches), and Cyrus' configuration of
# the application urna-smtpd, which only the auth port's smtpd uses: Debian's
# postfix reads it from /etc/postfix/sasl whatever cyrus_sasl_config_path
# says.
if [ ! -s "$CONF/auth-password" ]; then
	(umask 077 && openssl rand -hex 16 >"$CONF/auth-password")
fi
chmod 600 "$CONF/auth-password"
rm -f "$CONF/sasldb2"
tr -d '\n' <"$CONF/auth-password" | saslpasswd2 -p -c -u urna.test -f "$CONF/sasldb2" "$AUTH_USER"
chown root:postfix "$CONF/sasldb2"
chmod 640 "$CONF/sasldb2"
mkdir -p /etc/postfix/sasl
cat >/etc/postfix/sasl/urna-smtpd.conf <<SASL
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $CONF/sasldb2
mech_list: PLAIN LOGIN
SASL

postconf -e \
	"compatibility_level=3.6" \
	"myhostname=urna-ci.localdomain" \
	"mydestination=localhost" \
	"inet_interfaces=loopback-only" \
	"inet_protocols=ipv4" \
	"mynetworks=127.0.0.0/8" \
	"smtputf8_enable=no" \
	"maillog_file=/var/log/postfix-urna-ci.log" \
	"smtpd_tls_cert_file=$CONF/cert.pem" \
	"smtpd_tls_key_file=$CONF/key.pem" \
	"smtpd_tls_security_level=encrypt" \
	"smtpd_tls_auth_only=yes" \
	"virtual_mailbox_domains=urna.test" \
	"virtual_mailbox_base=$MAILDIR" \
	"virtual_mailbox_maps=texthash:$CONF/mailboxes" \
	"virtual_uid_maps=static:$VUID" \
	"virtual_gid_maps=static:$VUID" \
	"message_size_limit=20480000"
# Only the test port: the usual smtp service on port 25 is turned off.
postconf -MX smtp/inet 2>/dev/null || true
postconf -M "127.0.0.1:$PORT/inet=127.0.0.1:$PORT inet n - n - - smtpd"
# The auth port: SMTP AUTH after STARTTLS (smtpd_tls_auth_only above), and
# every recipient refused to a client that has not logged in.
postconf -M "127.0.0.1:$AUTH_PORT/inet=127.0.0.1:$AUTH_PORT inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_type=cyrus -o smtpd_sasl_path=urna-smtpd -o smtpd_sasl_local_domain=urna.test -o smtpd_sasl_security_options=noanonymous -o smtpd_client_restrictions=permit_sasl_authenticated,reject"
# postlog writes maillog_file when there is no syslog (containers, CI).
postconf -M "postlog/unix-dgram=postlog unix-dgram n - n - 1 postlogd"

if postfix status >/dev/null 2>&1; then
	postfix reload >&2 2>&1
else
	log "starting postfix"
	postfix start >&2 2>&1
fi

for port in "$PORT" "$AUTH_PORT"; do
	for _ in $(seq 1 60); do
		if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
			break
		fi
		sleep 0.5
	done
	if ! (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
		log "postfix does not listen on 127.0.0.1:$port; see /var/log/postfix-urna-ci.log"
		exit 1
	fi
done
log "ready: 127.0.0.1:$PORT (STARTTLS required) and 127.0.0.1:$AUTH_PORT (STARTTLS and AUTH required), mailboxes under $MAILDIR/urna.test"
printf "export URNA_TEST_SMTP='127.0.0.1:%s'\n" "$PORT"
printf "export URNA_TEST_SMTP_CA='%s'\n" "$CONF/cert.pem"
printf "export URNA_TEST_SMTP_MAILDIR='%s'\n" "$MAILDIR/urna.test"
printf "export URNA_TEST_SMTP_AUTH='127.0.0.1:%s'\n" "$AUTH_PORT"
printf "export URNA_TEST_SMTP_USER='%s'\n" "$AUTH_USER"
printf "export URNA_TEST_SMTP_PASSWORD_FILE='%s'\n" "$CONF/auth-password"
