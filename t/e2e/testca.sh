# t/e2e/testca.sh - a throwaway certificate authority for the tests (POSIX
# sh; sourced). The openssl command line only; EC P-256 keys (fast);
# everything valid for 1 day. Quiet on success; on an error, openssl's
# messages go to stderr and the function returns non-zero.
#
#   make_ca DIR                 DIR/ca.pem, DIR/ca.key: a self-signed CA
#                               (CN "postern test CA", basicConstraints
#                               CA:TRUE, keyUsage keyCertSign, cRLSign)
#   make_cert DIR NAME DNS...   DIR/NAME.pem, DIR/NAME.key: a server and
#                               client certificate signed by DIR's CA, CN
#                               the first DNS name, every DNS name in
#                               subjectAltName (an IPv4 or IPv6 literal
#                               goes in as an IP: entry instead)
#
# Trust DIR/ca.pem on the client (Python: ssl.create_default_context(
# cafile=...)); give NAME.pem and NAME.key to the server.

# _testca_run CMD... - run quietly; on failure show what it said
_testca_run() {
	_testca_out=$("$@" 2>&1) && return 0
	_testca_rc=$?
	printf '%s\n' "testca: $1 failed ($_testca_rc):" "$_testca_out" >&2
	return $_testca_rc
}

make_ca() {
	[ $# = 1 ] || { echo "usage: make_ca DIR" >&2; return 2; }
	mkdir -p "$1" || return 1
	_testca_run openssl req -x509 -newkey ec \
	    -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 1 \
	    -subj "/CN=postern test CA" -keyout "$1/ca.key" -out "$1/ca.pem" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -addext "subjectKeyIdentifier=hash" || return 1
	chmod 600 "$1/ca.key"
}

make_cert() {
	[ $# -ge 3 ] || { echo "usage: make_cert DIR NAME DNSNAME..." >&2
	    return 2; }
	_testca_dir=$1 _testca_name=$2
	shift 2
	[ -f "$_testca_dir/ca.pem" ] && [ -f "$_testca_dir/ca.key" ] || {
		echo "make_cert: no CA in $_testca_dir (make_ca first)" >&2
		return 1
	}
	_testca_san=""
	for _testca_n in "$@"; do
		if printf '%s\n' "$_testca_n" |
		    grep -Eq '^([0-9]+\.){3}[0-9]+$|:'; then
			_testca_n="IP:$_testca_n"
		else
			_testca_n="DNS:$_testca_n"
		fi
		_testca_san="$_testca_san${_testca_san:+,}$_testca_n"
	done
	_testca_base=$_testca_dir/$_testca_name
	cat >"$_testca_base.ext" <<EOF || return 1
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = $_testca_san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
	_testca_run openssl req -new -newkey ec \
	    -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
	    -subj "/CN=$1" -keyout "$_testca_base.key" \
	    -out "$_testca_base.csr" || return 1
	_testca_run openssl x509 -req -in "$_testca_base.csr" -sha256 -days 1 \
	    -CA "$_testca_dir/ca.pem" -CAkey "$_testca_dir/ca.key" \
	    -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
	    -extfile "$_testca_base.ext" -out "$_testca_base.pem" || return 1
	chmod 600 "$_testca_base.key"
	rm -f "$_testca_base.csr" "$_testca_base.ext"
}
