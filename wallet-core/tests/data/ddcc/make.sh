#!/bin/sh
# Makes the test signers of the WHO DDCC tests (wallet-core's
# src/credential/ddcc/tests.rs, the checkpoint's and the end-to-end ones):
# a test country signing CA and two document signer certificates (DSCs)
# under it, as the WHO's network (GDHCN) structures them: P-256 keys,
# ES256, the DSC's kid the first 8 bytes of its certificate's SHA-256.
# "vaccinations" carries the EU DCC key usage for vaccinations only, so a
# test result it signed is refused. Nothing here is trusted anywhere: the
# keys are test keys, committed so the tests are fixed. Run here with
# OpenSSL 3 to remake them (the tests then need no change).
set -eu
days=7300

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out csca.key 2>/dev/null
openssl req -new -x509 -key csca.key -out csca.pem -subj '/C=XX/O=Test/CN=Test DDCC CSCA' -days $days -sha256 \
  -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' \
  -addext 'keyUsage=critical,keyCertSign,cRLSign' \
  -addext 'subjectKeyIdentifier=hash'

dsc() { # name serial extfile-lines...
  name=$1 serial=$2; shift 2
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$name.key" 2>/dev/null
  printf '%s\n' 'keyUsage=critical,digitalSignature' 'authorityKeyIdentifier=keyid' "$@" > "$name.ext"
  openssl req -new -key "$name.key" -subj "/C=XX/O=Test/CN=Test DDCC DSC $name" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA csca.pem -CAkey csca.key -set_serial "$serial" \
    -days $days -sha256 -extfile "$name.ext" -out "$name.pem"
  rm -f "$name.csr" "$name.ext"
}

dsc dsc 8193
dsc vaccinations 8194 'extendedKeyUsage=1.3.6.1.4.1.1847.2021.1.2'
rm -f csca.key csca.srl
