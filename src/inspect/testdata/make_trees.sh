#!/bin/sh
# Builds the inspection test trees with real tools (openssl, ssh-keygen, mkpasswd, gcc).
#   make_trees.sh planted DIR   every kind of secret and weak setting the inspector finds
#   make_trees.sh clean DIR     the same layout with safe settings and no secrets
set -eu
mode=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$root"
cd "$root"
mkdir -p etc/ssl/private etc/ssl/certs etc/ssh etc/init.d etc/rc.d etc/xinetd.d etc/config \
  etc/default etc/systemd/system etc/app usr/bin usr/lib usr/share/app var root/.ssh tmp \
  www/cgi-bin

ossl() { openssl "$@" 2>/dev/null; }

# A small CA (kept outside the tree) used to sign leaf certificates with chosen dates.
mkdir -p "$work/ca/new"
: > "$work/ca/index.txt"
echo 1000 > "$work/ca/serial"
cat > "$work/ca/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $work/ca
database = $work/ca/index.txt
new_certs_dir = $work/ca/new
serial = $work/ca/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
EOF
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca/ca.key" -out "$work/ca/ca.pem" \
  -subj "/CN=Clearbox Test CA" -days 3650
sign_leaf() {  # sign_leaf CN START END OUT
  ossl req -new -newkey rsa:2048 -nodes -keyout "$work/leaf.key" -out "$work/leaf.csr" -subj "/CN=$1"
  ossl ca -batch -config "$work/ca/ca.cnf" -keyfile "$work/ca/ca.key" -cert "$work/ca/ca.pem" \
    -in "$work/leaf.csr" -out "$4" -startdate "$2" -enddate "$3" -notext
}
cp "$work/ca/ca.pem" etc/ssl/certs/clearbox-test-ca.pem

if [ "$mode" = planted ]; then
  # ---- private keys -------------------------------------------------------------------
  k=etc/ssl/private
  ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out $k/rsa1024.key
  ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rsa2048.key"
  ossl pkey -in "$work/rsa2048.key" -traditional -out $k/server_trad.key
  ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $k/ec.key
  ossl genpkey -algorithm ED25519 -out $k/ed25519.key
  ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-256-cbc -pass pass:s3cret \
    -out $k/enc_pkcs8.key
  ossl pkey -in "$work/rsa2048.key" -traditional -aes128 -passout pass:s3cret -out $k/enc_trad.key
  ossl pkey -in "$work/rsa2048.key" -outform DER -out $k/rsa.der
  ossl pkcs8 -topk8 -nocrypt -in $k/ec.key -outform DER -out $k/ec_pkcs8.der
  ossl pkey -in $k/ec.key -outform DER -out $k/ec_sec1.der
  ossl pkcs8 -topk8 -nocrypt -in $k/ed25519.key -outform DER -out $k/ed25519.der
  ossl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:s3cret -in $k/ec.key -outform DER -out $k/enc.der
  if command -v dropbearkey >/dev/null 2>&1; then  # dropbear's own binary key format
    mkdir -p etc/dropbear
    dropbearkey -t rsa -s 1024 -f etc/dropbear/dropbear_rsa_host_key >/dev/null 2>&1
    dropbearkey -t ed25519 -f etc/dropbear/dropbear_ed25519_host_key >/dev/null 2>&1
  fi
  ssh-keygen -q -t ed25519 -N '' -C test -f root/.ssh/id_ed25519
  ssh-keygen -q -t rsa -b 1024 -N 'pass phrase' -C test -f root/.ssh/id_rsa
  rm -f root/.ssh/*.pub
  # A program with a PEM key and a DER key compiled into it (and a password string that
  # must not count: the generic password rule is for text configuration only).
  ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$work/embedded_ec.key"
  ossl pkey -in "$work/embedded_ec.key" -outform DER -out "$work/embedded_ec.der"
  python3 - "$work/rsa2048.key" "$work/embedded_ec.der" > "$work/fw.c" <<'EOF'
import sys
pem = open(sys.argv[1]).read()
der = open(sys.argv[2], 'rb').read()
print('#include <stdio.h>')
print('const char kPem[] = ' + ''.join('"%s\\n"\n' % line for line in pem.splitlines()) + ';')
print('const unsigned char kDer[] = {' + ','.join(str(b) for b in der) + '};')
print('const char kLogin[] = "password=hunter2";')
print('int main(void) { printf("%zu %zu %s\\n", sizeof kPem, sizeof kDer, kLogin); return 0; }')
EOF
  gcc -O0 -o usr/bin/fwupdate "$work/fw.c"

  # ---- certificates -------------------------------------------------------------------
  ossl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ss.key" -out etc/ssl/selfsigned.crt \
    -subj /CN=selfsigned.local -days 3650
  ossl req -x509 -newkey rsa:1024 -nodes -keyout "$work/w.key" -out etc/ssl/weak1024.crt \
    -subj /CN=weak.local -days 3650
  ossl req -x509 -newkey rsa:2048 -nodes -keyout "$work/s1.key" -out etc/ssl/sha1.crt \
    -subj /CN=sha1.local -days 3650 -sha1
  ossl req -x509 -newkey rsa:2048 -nodes -keyout "$work/m5.key" -out "$work/md5.pem" \
    -subj /CN=md5.local -days 3650 -md5
  ossl x509 -in "$work/md5.pem" -outform DER -out etc/ssl/md5.der
  sign_leaf expired.local 20200101000000Z 20210101000000Z etc/ssl/expired.crt
  mkdir -p etc/lighttpd
  cat "$work/ss.key" etc/ssl/selfsigned.crt > etc/lighttpd/server.pem

  # ---- accounts -----------------------------------------------------------------------
  h_root=$(openssl passwd -6 -salt rootsalt admin)
  h_admin=$(openssl passwd -1 -salt adm password)
  h_oper=$(openssl passwd -5 -salt opsalt 'K7#pq!v9Lm2x')
  h_des=$(mkpasswd -m descrypt -S ab 1234)
  h_pi=$(mkpasswd -m bcrypt -R 5 raspberry)
  h_support=$(mkpasswd -m yescrypt support)
  h_toor=$(openssl passwd -6 -salt toorsalt toor)
  h_www=$(openssl passwd -6 -salt wwwsalt admin)
  h_legacy=$(openssl passwd -6 -salt legacy service)
  cat > etc/shadow <<EOF
root:$h_root:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
admin:$h_admin:19000:0:99999:7:::
operator:$h_oper:19000:0:99999:7:::
olddes:$h_des:19000:0:99999:7:::
pi:$h_pi:19000:0:99999:7:::
support:$h_support:19000:0:99999:7:::
guest::19000:0:99999:7:::
toor:$h_toor:19000:0:99999:7:::
www:$h_www:19000:0:99999:7:::
sshd:!:19000:0:99999:7:::
EOF
  cat > etc/passwd <<EOF
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
admin:x:1000:1000:admin:/home/admin:/bin/sh
operator:x:1001:1001:operator:/home/operator:/bin/sh
olddes:x:1002:1002::/home/olddes:/bin/sh
pi:x:1003:1003::/home/pi:/bin/sh
support:x:1004:1004::/home/support:/bin/sh
guest:x:1005:1005::/home/guest:/bin/sh
toor:x:0:0:second root:/root:/bin/sh
www:x:33:33:www:/var/www:/usr/sbin/nologin
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
legacy:$h_legacy:1006:1006::/home/legacy:/bin/sh
EOF

  # ---- tokens and hard-coded passwords -------------------------------------------------
  alnum=Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LmNbVcXzQwErTyUiOpAsDfGhJkLzXcVbNm
  aws_id="AK""IA2OGYBAH6Q7ZK4XWM"
  aws_secret=$(printf '%s' "$alnum" | cut -c1-40)
  gh="gh""p_$(printf '%s' "$alnum" | cut -c1-36)"
  gl="gl""pat-$(printf '%s' "$alnum" | cut -c3-22)"
  slack="xo""xb-123456789012-1234567890123-$(printf '%s' "$alnum" | cut -c5-28)"
  cat > etc/app/cloud.conf <<EOF
[default]
aws_access_key_id = $aws_id
aws_secret_access_key = $aws_secret
region = eu-west-1
EOF
  cat > usr/share/app/deploy.sh <<EOF
#!/bin/sh
# push the build
GITHUB_TOKEN=$gh
curl -H "PRIVATE-TOKEN: $gl" https://gitlab.invalid/api/v4/projects
curl -H "Authorization: Bearer $slack" https://slack.invalid/api/chat.postMessage
EOF
  cat > etc/app/app.conf <<EOF
# application settings
listen_port = 8080
admin_password = Wq8#rT2!zPn
db_passwd: "admin"
EOF
  cat > www/cgi-bin/login.cgi <<EOF
#!/bin/sh
PASS=letmein
[ "\$QUERY_STRING" = "p=\$PASS" ] && echo ok
EOF

  # ---- services started at boot --------------------------------------------------------
  cat > etc/inittab <<EOF
::sysinit:/etc/init.d/rcS
::respawn:/usr/sbin/telnetd -F -l /bin/login
tty1::respawn:/sbin/getty 38400 tty1
#::respawn:/usr/sbin/ftpd -w /
EOF
  cat > etc/inetd.conf <<EOF
# inetd services
telnet  stream  tcp  nowait  root    /usr/sbin/tcpd  in.telnetd
tftp    dgram   udp  wait    nobody  /usr/sbin/tcpd  in.tftpd /srv/tftp
shell   stream  tcp  nowait  root    /usr/sbin/in.rshd  in.rshd
login   stream  tcp  nowait  root    /usr/sbin/in.rlogind  in.rlogind
EOF
  cat > etc/xinetd.d/rexec <<EOF
service exec
{
	disable = no
	socket_type = stream
	server = /usr/sbin/in.rexecd
}
EOF
  cat > etc/xinetd.d/ftp <<EOF
service ftp
{
	disable = yes
	server = /usr/sbin/in.ftpd
}
EOF
  cat > etc/init.d/vsftpd <<'EOF'
#!/bin/sh
DAEMON=/usr/sbin/vsftpd
case "$1" in
  start) start-stop-daemon --start --background --exec $DAEMON ;;
  stop) start-stop-daemon --stop --exec $DAEMON ;;
esac
EOF
  cat > etc/init.d/telnet <<'EOF'
#!/bin/sh /etc/rc.common
START=50
start_service() {
	procd_open_instance
	procd_set_param command /usr/sbin/telnetd -F -l /bin/login.sh
	procd_close_instance
}
EOF
  ln -s ../init.d/telnet etc/rc.d/S50telnet
  cat > etc/init.d/S50dropbear <<'EOF'
#!/bin/sh
/usr/sbin/dropbear -B -p 22 -r /etc/dropbear/dropbear_rsa_host_key
EOF
  cat > etc/systemd/system/utelnetd.service <<EOF
[Unit]
Description=telnet
[Service]
ExecStart=/usr/sbin/utelnetd -p 23
[Install]
WantedBy=multi-user.target
EOF
  cat > etc/config/dhcp <<EOF
config dnsmasq
	option domainneeded '1'
	option enable_tftp '1'
	option tftp_root '/srv/tftp'
EOF
  cat > etc/config/dropbear <<EOF
config dropbear
	option PasswordAuth 'on'
	option RootPasswordAuth 'on'
	option Port '22'
EOF
  cat > etc/ssh/sshd_config <<EOF
Port 22
PermitRootLogin yes
PasswordAuthentication yes
PermitEmptyPasswords yes
EOF
  cat > etc/default/dropbear <<EOF
NO_START=0
DROPBEAR_EXTRA_ARGS="-B"
EOF

  # ---- Wi-Fi, web-server credentials, scripts, quoted keys, certificates (accuracy) ----
  mkdir -p etc/wpa_supplicant etc/hostapd etc/boa etc/apache2 www/admin www/js \
    usr/lib/lua/luci etc/app
  cat > etc/wpa_supplicant/wpa_supplicant.conf <<EOF
ctrl_interface=/var/run/wpa_supplicant
network={
	ssid="HomeNet"
	psk="Tr0ub4dor&3xyz"
}
network={
	ssid="Office"
	psk=3f1c5e0a9b7d2e4f6a8c0b1d3e5f7a9c2b4d6e8f0a1c3e5b7d9f1a3c5e7b9d1f
}
EOF
  cat > etc/hostapd/hostapd.conf <<EOF
interface=wlan0
ssid=DeviceAP
wpa=2
wpa_passphrase=Sup3rS3cretAP!
EOF
  mkdir -p etc/config
  cat > etc/config/wireless <<EOF
config wifi-iface 'default_radio0'
	option device 'radio0'
	option mode 'ap'
	option encryption 'psk2'
	option key 'OpenWrtW1f1Key'
EOF
  printf 'admin:Lt7pQ9zzW\nguest:guest\n' > etc/lighttpd/lighttpd.user
  printf 'A:*\n/cgi-bin:admin:admin\n.au:audio/basic\n' > etc/httpd.conf
  printf 'admin:B0aS3cretX\n' > etc/boa/boa_passwd
  { printf 'webadmin:%s\n' "$(openssl passwd -apr1 -salt abcdefgh admin)"
    printf 'backup:{SHA}%s\n' "$(printf password | openssl dgst -sha1 -binary | base64)"; } \
    > www/admin/.htpasswd
  printf 'admin:Device:%s\n' "$(printf 'admin:Device:1234' | md5sum | cut -c1-32)" \
    > etc/apache2/.htdigest
  printf 'local password = "LuaS3cret9"\n' > usr/lib/lua/luci/auth.lua
  printf '<?php\n$password = %sPhpS3cret9%s;\n' "'" "'" > www/admin/config.php
  printf 'const password = "JsS3cret99";\n' > www/js/app.js
  python3 - "$work/rsa2048.key" <<'EOF'
import json, sys
pem = open(sys.argv[1]).read()
json.dump({"tls": {"key": pem}}, open("etc/app/tls.json", "w"))
with open("etc/app/tr069.xml", "w") as out:
    out.write("<config>\n  <key>\n")
    for line in pem.splitlines():
        out.write("    " + line + "\n")
    out.write("  </key>\n</config>\n")
EOF
  # The device's own leaf certificate in the trust-store directory, a v1 DER certificate,
  # and the private key of the CA that issued etc/ssl/expired.crt.
  ossl req -x509 -newkey rsa:2048 -nodes -keyout "$work/dev.key" -out etc/ssl/certs/device.crt \
    -subj /CN=device.local -days 3650 -addext basicConstraints=critical,CA:FALSE
  ossl req -new -newkey rsa:2048 -nodes -keyout "$work/v1.key" -subj /CN=v1.local -out "$work/v1.csr"
  ossl x509 -req -in "$work/v1.csr" -signkey "$work/v1.key" -days 3650 -outform DER \
    -out etc/lighttpd/v1.der
  cp "$work/ca/ca.key" etc/ssl/private/test-ca.key

  # ---- modes --------------------------------------------------------------------------
  cp /bin/true usr/bin/suidtool && chmod 4755 usr/bin/suidtool
  cp /bin/true usr/bin/sgidtool && chmod 2755 usr/bin/sgidtool
  echo "level=3" > etc/world.conf && chmod 0666 etc/world.conf
  mkdir -p var/shared && chmod 0777 var/shared
  chmod 1777 tmp
else
  # ---- the clean twin: same layout, safe settings, real Debian files -------------------
  sign_leaf server.local 20250101000000Z 20350101000000Z etc/ssl/server.crt
  h_svc=$(mkpasswd -m yescrypt "$(head -c 18 /dev/urandom | base64)")
  cat > etc/shadow <<EOF
root:*:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
svc:$h_svc:19000:0:99999:7:::
sshd:!:19000:0:99999:7:::
EOF
  cat > etc/passwd <<EOF
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
svc:x:1000:1000::/home/svc:/bin/sh
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
EOF
  cat > etc/inittab <<EOF
::sysinit:/etc/init.d/rcS
tty1::respawn:/sbin/getty 38400 tty1
#::respawn:/usr/sbin/telnetd -F -l /bin/login
EOF
  cat > etc/inetd.conf <<EOF
#telnet  stream  tcp  nowait  root  /usr/sbin/tcpd  in.telnetd
EOF
  cat > etc/xinetd.d/telnet <<EOF
service telnet
{
	disable = yes
	server = /usr/sbin/in.telnetd
}
EOF
  cat > etc/init.d/rcS <<'EOF'
#!/bin/sh
mount -a
killall telnetd 2>/dev/null
/usr/sbin/dropbear -w -s -p 22
EOF
  cat > etc/config/dhcp <<EOF
config dnsmasq
	option enable_tftp '0'
EOF
  cat > etc/config/dropbear <<EOF
config dropbear
	option PasswordAuth 'off'
	option RootPasswordAuth 'off'
EOF
  cat > etc/ssh/sshd_config <<EOF
Port 22
PermitRootLogin prohibit-password
PasswordAuthentication no
PermitEmptyPasswords no
EOF
  cat > etc/default/dropbear <<EOF
DROPBEAR_EXTRA_ARGS="-w -s"
EOF
  cat > etc/app/app.conf <<'EOF'
# application settings
listen_port = 8080
admin_password = $ADMIN_PASSWORD
password_file = /etc/app/secret
EOF
  # Real files from installed Debian packages (openssh-client, openssl, libssl3, coreutils,
  # ca-certificates, libpam-runtime, base-files, login, adduser), where present.
  for f in /usr/bin/ssh-keygen /bin/ls /bin/true; do
    [ -f "$f" ] && cp "$f" usr/bin/
  done
  for f in /usr/lib/x86_64-linux-gnu/libcrypto.so.3 /usr/lib/x86_64-linux-gnu/libssl.so.3; do
    [ -f "$f" ] && cp "$f" usr/lib/
  done
  for f in /etc/ssl/openssl.cnf /etc/nsswitch.conf /etc/login.defs /etc/adduser.conf \
           /etc/ssh/ssh_config /etc/profile /etc/bash.bashrc /etc/deluser.conf; do
    [ -f "$f" ] && cp "$f" "etc/$(basename "$f")"
  done
  [ -d /etc/pam.d ] && cp -r /etc/pam.d etc/pam.d
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt etc/ssl/certs/
  if [ -d /usr/share/ca-certificates/mozilla ]; then
    mkdir -p usr/share/ca-certificates/mozilla
    ls /usr/share/ca-certificates/mozilla | head -20 | while read -r c; do
      cp "/usr/share/ca-certificates/mozilla/$c" usr/share/ca-certificates/mozilla/
    done
  fi
  # Init scripts that start no network service (a fixed list: whatever else this machine has
  # installed, e.g. vsftpd or snmpd for the probe tests, would be a finding in the clean tree).
  for f in /etc/init.d/procps /etc/init.d/hwclock.sh /etc/init.d/x11-common; do
    [ -f "$f" ] && cp "$f" etc/init.d/
  done
  # The same kinds of files, without secrets: variables, key files, no credentials.
  mkdir -p etc/wpa_supplicant etc/hostapd etc/lighttpd www/admin www/js usr/lib/lua/luci
  cat > etc/wpa_supplicant/wpa_supplicant.conf <<'EOF'
ctrl_interface=/var/run/wpa_supplicant
update_config=1
network={
	ssid="HomeNet"
	psk=$PSK
	key_mgmt=WPA-PSK
}
EOF
  cat > etc/hostapd/hostapd.conf <<'EOF'
interface=wlan0
ssid=DeviceAP
wpa=2
wpa_psk_file=/etc/hostapd/hostapd.wpa_psk
EOF
  printf 'A:*\nD:10.0.0.0/8\n.au:audio/basic\n' > etc/httpd.conf
  printf 'server.modules += ( "mod_auth" )\nauth.backend = "htdigest"\n' > etc/lighttpd/lighttpd.conf
  printf '<?php\n$password = $_POST[%spassword%s];\n' "'" "'" > www/admin/login.php
  printf 'const password = document.getElementById("pw").value;\n' > www/js/app.js
  printf 'local password = luci.http.formvalue("password")\n' > usr/lib/lua/luci/auth.lua
  chmod 1777 tmp
fi
