#!/bin/sh
# Makes the test PKI of wallet-core's ICAO seal tests (src/icao/seal/tests.rs):
# a test CSCA (P-256), a rogue CSCA of the same name, an RSA CSCA signing
# with RSASSA-PSS, and barcode signer certificates that each break one
# rule, plus the CSCA's CRL. Nothing here is trusted anywhere: the keys are
# test keys, committed so the tests are fixed. Run here with OpenSSL 3 to
# remake them (the tests then need no change).
set -eu
days=7300
end=20391231235959Z
doc_nv='DER:30:09:02:01:00:31:04:13:02:4e:56'   # SEQUENCE { 0, SET { "NV" } }
doc_nt='DER:30:09:02:01:00:31:04:13:02:4e:54'   # SEQUENCE { 0, SET { "NT" } }

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"$2" -pkeyopt ec_param_enc:named_curve -out "$1.key" 2>/dev/null; }

csca() { # name key subject [sigopts]
  openssl req -new -x509 -key "$2.key" -out "$1.pem" -subj "$3" -days $days -sha256 $4 \
    -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' \
    -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -addext 'subjectKeyIdentifier=hash'
  openssl x509 -in "$1.pem" -outform der -out "$1.der"
}

bsc() { # name key-curve serial ca-cert ca-key extfile-lines... 
  name=$1 curve=$2 serial=$3 ca=$4 cakey=$5; shift 5
  key "$name" "$curve"
  printf '%s\n' "$@" > "$name.ext"
  openssl req -new -key "$name.key" -subj "/C=UT/CN=Test Seal Signer $name" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$cakey.key" -set_serial "$serial" \
    -days $days -sha256 -extfile "$name.ext" -out "$name.pem" ${SIGOPT:-}
  openssl x509 -in "$name.pem" -outform der -out "$name.der"
  rm -f "$name.csr" "$name.ext" "$name.pem"
}

key csca P-256
csca csca csca '/C=UT/O=Test/CN=Test Seal CSCA' ''
key rogue P-256
csca rogue rogue '/C=UT/O=Test/CN=Test Seal CSCA' ''
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-csca.key 2>/dev/null
csca rsa-csca rsa-csca '/C=UR/O=Test/CN=Test RSA-PSS CSCA' '-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32'

eku='extendedKeyUsage=critical,2.23.136.1.1.14.2'
aki='authorityKeyIdentifier=keyid'
bsc good P-256 4097 csca csca "$eku" "$aki" "2.23.136.1.1.6.2=$doc_nv"
bsc p384 P-384 4098 csca csca "$eku" "$aki"
bsc p521 P-521 4099 csca csca "$eku" "$aki"
bsc no-eku P-256 4100 csca csca "$aki" "2.23.136.1.1.6.2=$doc_nv"
bsc tests-only P-256 4101 csca csca "$eku" "$aki" "2.23.136.1.1.6.2=$doc_nt"
bsc revoked P-256 4102 csca csca "$eku" "$aki"
bsc by-rogue P-256 4103 rogue rogue "$eku" "$aki"
SIGOPT='-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32' bsc by-rsa P-256 4104 rsa-csca rsa-csca "$eku" "$aki"

# The CSCA's CRL: revoked.der's serial (0x1006) listed, next update in 2039.
mkdir -p ca/newcerts && : > ca/index.txt && echo 1000 > ca/crlnumber
printf 'V\t%s\t\t1006\tunknown\t/C=UT/CN=Test Seal Signer revoked\n' "$end" > ca/index.txt
sed -i 's/^V\t/R\t/; s/\t\t1006/\t210101000000Z\t1006/' ca/index.txt
cat > ca/ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
database = ca/index.txt
crlnumber = ca/crlnumber
default_md = sha256
default_crl_days = $days
CNF
openssl ca -config ca/ca.cnf -gencrl -keyfile csca.key -cert csca.pem -out csca-crl.pem 2>/dev/null
openssl crl -in csca-crl.pem -outform der -out csca-crl.der
rm -rf ca csca-crl.pem csca.pem rogue.pem rsa-csca.pem csca.key rogue.key rsa-csca.key
