#!/bin/sh
# Makes the test signers of the WHO DDCC tests (wallet-core's
# src/credential/ddcc/tests.rs, the checkpoint's, the forgery campaign's and
# the end-to-end ones): a test country signing CA and two document signer
# certificates (DSCs) under it, as the WHO's network (GDHCN) structures
# them: P-256 keys, ES256, the DSC's kid the first 8 bytes of its
# certificate's SHA-256. "vaccinations" carries the EU DCC key usage for
# vaccinations only, so a test result it signed is refused. The DSCs are
# valid from 2020 to 2049, so tests may pin any clock between. Nothing here
# is trusted anywhere: the keys are test keys, committed so the tests are
# fixed. Run here with OpenSSL 3 to remake them (the tests then need no
# change).
set -eu
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$1" 2>/dev/null; }

ec csca.key
openssl req -new -x509 -key csca.key -out csca.pem -subj '/C=XX/O=Test/CN=Test DDCC CSCA' -days 10950 -sha256 \
  -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' \
  -addext 'keyUsage=critical,keyCertSign,cRLSign' \
  -addext 'subjectKeyIdentifier=hash'

ca=$(mktemp -d)
trap 'rm -rf "$ca"' EXIT
: > "$ca/index.txt"
cat > "$ca/ca.cnf" <<CNF
[ ca ]
default_ca = test
[ test ]
database = $ca/index.txt
new_certs_dir = $ca
serial = $ca/serial
certificate = csca.pem
private_key = csca.key
default_md = sha256
policy = any
unique_subject = no
[ any ]
countryName = supplied
organizationName = supplied
commonName = supplied
[ dsc ]
keyUsage = critical,digitalSignature
authorityKeyIdentifier = keyid
[ vaccinations ]
keyUsage = critical,digitalSignature
authorityKeyIdentifier = keyid
extendedKeyUsage = 1.3.6.1.4.1.1847.2021.1.2
CNF

dsc() { # name serial
  ec "$1.key"
  openssl req -new -key "$1.key" -subj "/C=XX/O=Test/CN=Test DDCC DSC $1" -out "$ca/$1.csr"
  echo "$2" > "$ca/serial"
  openssl ca -batch -notext -config "$ca/ca.cnf" -extensions "$1" -in "$ca/$1.csr" -out "$1.pem" \
    -startdate 20200101000000Z -enddate 20491231235959Z 2>/dev/null
}

dsc dsc 2001
dsc vaccinations 2002
rm -f csca.key
