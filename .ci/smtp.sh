#!/usr/bin/env bash
# .ci/smtp.sh: make a local SMTP server (Debian's postfix) available for the
# mailer tests, with STARTTLS required.
#
# Installs postfix from Debian's packages when it is missing, makes a
# self-signed certificate for 127.0.0.1 and localhost, has postfix listen
# on 127.0.0.1:2525 only, refuse every MAIL before STARTTLS
# (smtpd_tls_security_level=encrypt), and deliver the domain urna.test to
# Maildir mailboxes under $MAILDIR: alice, bob and carol exist, any other
# recipient is refused at RCPT TO (550). Prints lines for the caller to eval:
#
#   eval "$(bash .ci/smtp.sh)"  # sets URNA_TEST_SMTP, URNA_TEST_SMTP_CA, URNA_TEST_SMTP_MAILDIR
#
# Idempotent. Must run as root. Everything but the export lines goes to stderr.
set -euo pipefail

log() { printf 'smtp.sh: %s\n' "$*" >&2; }

PORT=${URNA_SMTP_PORT:-2525}
CONF=/etc/postfix/urna-ci
MAILDIR=/var/mail/urna-ci
VUID=5025

if [ "$(id -u)" -ne 0 ]; then
	log "must run as root"
	exit 1
fi

if ! command -v postfix >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
	log "installing postfix"
	export DEBIAN_FRONTEND=noninteractive
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	aptlog=$(mktemp)
	if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends postfix openssl ca-certificates; } >"$aptlog" 2>&1; then
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
# postlog writes maillog_file when there is no syslog (containers, CI).
postconf -M "postlog/unix-dgram=postlog unix-dgram n - n - 1 postlogd"

if postfix status >/dev/null 2>&1; then
	postfix reload >&2 2>&1
else
	log "starting postfix"
	postfix start >&2 2>&1
fi

for _ in $(seq 1 60); do
	if (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; then
		break
	fi
	sleep 0.5
done
if ! (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; then
	log "postfix does not listen on 127.0.0.1:$PORT; see /var/log/postfix-urna-ci.log"
	exit 1
fi
log "ready: 127.0.0.1:$PORT (STARTTLS required), mailboxes under $MAILDIR/urna.test"
printf "export URNA_TEST_SMTP='127.0.0.1:%s'\n" "$PORT"
printf "export URNA_TEST_SMTP_CA='%s'\n" "$CONF/cert.pem"
printf "export URNA_TEST_SMTP_MAILDIR='%s'\n" "$MAILDIR/urna.test"
