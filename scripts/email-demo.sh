#!/usr/bin/env bash
# The email channel in a minute, on loopback only: a throw-away Dovecot
# (Debian's dovecot-imapd) with one mailbox, an SMTP sink that writes the
# replies into files, and routerd on the demo configuration plus an email
# section reading that mailbox. One email is appended; sign in at
# http://127.0.0.1:8080/agent/ as alice / alice-demo and it is offered.
# Ctrl-C stops everything and removes the temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

DOVECOT=${DOVECOT:-/usr/sbin/dovecot}
[ -x "$DOVECOT" ] || { echo "Dovecot not found: apt-get install dovecot-imapd" >&2; exit 1; }
IMAP_PORT=${IMAP_PORT:-14300}
SMTP_PORT=${SMTP_PORT:-2525}
dir=$(mktemp -d /tmp/email-demo.XXXXXX)
chmod 755 "$dir"   # Dovecot's own users traverse it
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

mkdir -p "$dir/base" "$dir/state" "$dir/mail" "$dir/data" "$dir/bin"
chmod 700 "$dir/data"
go build -o "$dir/bin/routerd" ./cmd/routerd
go build -o "$dir/bin/smtpsink" ./scripts/smtpsink
echo 'support:{PLAIN}demo-imap-password::::::' > "$dir/passwd"
chmod 644 "$dir/passwd"
if [ "$(id -u)" = 0 ]; then
  # Dovecot never reads mail as root, nor runs its login process so.
  mail_uid=$(id -u dovecot); mail_gid=$(id -g dovecot)
  chown dovecot:dovecot "$dir/mail"
  users="default_internal_user = dovecot
default_login_user = dovenull"
else
  mail_uid=$(id -u); mail_gid=$(id -g)
  users="default_internal_user = $(id -un)
default_login_user = $(id -un)"
fi
cat > "$dir/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $dir/base
state_dir = $dir/state
log_path = $dir/dovecot.log
ssl = no
disable_plaintext_auth = no
first_valid_uid = 0
mail_location = maildir:$dir/mail/%u
$users
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$dir/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
CONF
"$DOVECOT" -F -c "$dir/dovecot.conf" & pids+=($!)
"$dir/bin/smtpsink" -listen "127.0.0.1:$SMTP_PORT" -dir "$dir/sent" & pids+=($!)

echo demo-imap-password > "$dir/imap-password"
sed -e "s#^data_dir: .*#data_dir: $dir/data#" -e "s#^  path: ./data/switchboard.db#  path: $dir/data/switchboard.db#" \
  config/demo.yaml > "$dir/routerd.yaml"
cat >> "$dir/routerd.yaml" <<CONF

email:
  domain: support.example.com
  smtp: {host: 127.0.0.1, port: $SMTP_PORT, security: plain, allow_plaintext: true}
  queues:
    - {queue: support, address: support@example.com, display_name: Example Support, signature: "Example Ltd"}
  mailboxes:
    - name: support
      host: 127.0.0.1
      port: $IMAP_PORT
      security: plain
      allow_plaintext: true
      user: support
      password_file: $dir/imap-password
      queue: support
      start: "2000-01-01"
CONF
"$dir/bin/routerd" -config "$dir/routerd.yaml" & pids+=($!)

# One email from Ada, appended over IMAP as a mail server would deliver
# it, once Dovecot answers.
python3 - "$IMAP_PORT" <<'PY'
import imaplib, sys, time
for _ in range(100):
    try:
        m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
        break
    except OSError:
        time.sleep(0.1)
m.login("support", "demo-imap-password")
msg = (b"From: Ada Lovelace <ada@example.com>\r\nTo: support@example.com\r\n"
       b"Subject: My invoice is missing\r\nMessage-ID: <demo-1@example.com>\r\n"
       b"Content-Type: text/plain; charset=utf-8\r\n\r\nHello, where is my March invoice?\r\n")
m.append("INBOX", None, None, msg)
m.logout()
print("appended an email from ada@example.com")
PY
echo
echo "Dovecot on 127.0.0.1:$IMAP_PORT (support / demo-imap-password), replies in $dir/sent"
echo "Append more mail with any IMAP client; sign in at http://127.0.0.1:8080/agent/ as alice / alice-demo."
wait
