#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpus (fuzz/corpus/<target>/) from the
spec's vectors and the public EU certificates, so every run starts from
real inputs at each layer: payload text, zlib stream, COSE, CBOR, signed
files, certificates, DSC lists, a wallet's files and QR images. Run from the repository root:
    python3 fuzz/seed.py [path/to/issuer-binary]
(the issuer binary renders the QR image seeds; without it they are skipped).
"""
import glob, hashlib, json, os, subprocess, sys, tempfile, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha256(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def cose_payload(cose):
    """The payload bstr of a tagged COSE_Sign1 (major type 2 after the
    protected bstr and an empty map), enough for the seeds."""
    i = 0
    if cose[i] == 0xD2:
        i += 1
    i += 1  # array of 4
    def bstr(i):
        ib = cose[i] & 0x1F
        i += 1
        if ib < 24:
            n = ib
        elif ib == 24:
            n = cose[i]; i += 1
        elif ib == 25:
            n = int.from_bytes(cose[i:i + 2], "big"); i += 2
        elif ib == 26:
            n = int.from_bytes(cose[i:i + 4], "big"); i += 4
        else:
            raise ValueError("long bstr")
        return cose[i:i + n], i + n
    _, i = bstr(i)        # protected
    if cose[i] != 0xA0:   # unprotected: only the empty map is handled
        return None
    payload, _ = bstr(i + 1)
    return payload


for path in sorted(glob.glob(os.path.join(ROOT, "spec", "vectors", "*.json"))):
    v = json.load(open(path))
    if "payload" in v:
        put("payload_text", v["payload"])
    inter = v.get("intermediate", {})
    if "compressed_hex" in inter:
        put("zlib", bytes.fromhex(inter["compressed_hex"]))
    if "cose_hex" in inter:
        cose = bytes.fromhex(inter["cose_hex"])
        put("cose", cose)
        p = cose_payload(cose)
        if p:
            put("cbor", p)

for path in sorted(glob.glob(os.path.join(ROOT, "spec", "vectors", "checkpoint", "*.json"))):
    v = json.load(open(path))
    hexes = [v.get("file_hex")] + [v.get(k) for k in v if k.endswith("_hex") and k != "file_hex"]
    for h in hexes:
        if isinstance(h, str) and len(h) > 40:
            raw = bytes.fromhex(h)
            put("signed_files", raw)
            p = cose_payload(raw)
            if p:
                put("signed_files", p)
                put("cbor", p)
    for h in v.get("handovers", []):
        put("signed_files", bytes.fromhex(h["statement_hex"]))

# EU DCC test cases: a few payloads and their DSCs, one per country.
import base64
seen = set()
for path in sorted(glob.glob(os.path.join(ROOT, "..", "shared", "interop", "eu-dcc", "*", "2DCode", "raw", "*.json"))):
    country = path.split(os.sep)[-4]
    if country in seen:
        continue
    try:
        case = json.load(open(path))
        cert = case["TESTCTX"]["CERTIFICATE"]
        prefix = case["PREFIX"]
    except (KeyError, ValueError, TypeError):
        continue
    seen.add(country)
    der = base64.b64decode(cert)
    put("dsc_certificate", der)
    put("payload_text", prefix)
    if len(seen) >= 12:
        break

# A DSC list as national backends publish it: the target signs what follows
# the first line itself, so an unsigned line is enough.
certs = [{"kid": "", "rawData": base64.b64encode(hashlib.sha256(c.encode()).digest()).decode(), "country": c} for c in sorted(seen)[:2]]
put("dsc_list", "AAAA\n" + json.dumps({"certificates": certs}))

# SMART Health Cards: the spec's example cards in each form, the example
# issuer's key set and CRL, and a directory of it (target shc).
SHC = os.path.join(ROOT, "..", "shared", "interop", "shc")
for path in sorted(glob.glob(os.path.join(SHC, "examples", "example-0*"))):
    if path.endswith((".txt", ".smart-health-card")):
        put("shc", open(path, "rb").read())
chunks = sorted(glob.glob(os.path.join(SHC, "examples", "example-02-f-qr-code-numeric-value-*.txt")))
put("shc", "\n".join(open(p).read().strip() for p in reversed(chunks)))
wk = os.path.join(SHC, "issuer", ".well-known")
jwks = open(os.path.join(wk, "jwks.json"), "rb").read()
put("shc", jwks)
crls = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(wk, "crl", "*.json")))]
for c in crls:
    put("shc", json.dumps(c))
put("shc", json.dumps({"issuerInfo": [{"issuer": {"iss": "https://spec.smarthealth.cards/examples/issuer",
                                                  "name": "Examples"},
                                       "keys": json.loads(jwks)["keys"], "crls": crls}]}))

# NZ COVID Passes: the specification's examples (Apache-2.0, minhealthnz/
# nzcovidpass-spec; ../shared/interop/nzcp/SOURCE.md) and the example
# issuer's DID document (target nzcp).
NZCP = os.path.join(ROOT, "..", "shared", "interop", "nzcp")
for path in sorted(glob.glob(os.path.join(NZCP, "*", "nzcp*.txt"))):
    if "cbor" not in path and "hex" not in path:
        put("nzcp", open(path, "rb").read())
put("nzcp", open(os.path.join(NZCP, "valid", "did.json"), "rb").read())

# ICAO VDS-NC seals: Australia's seals and CSCA/CRLs (Apache-2.0,
# australian-passport-office/vds-nc-reader-library-android;
# ../shared/interop/icao-vds-nc/SOURCE.md), Japan's CSCA (explicit curve
# parameters), the test PKI's certificates, and RFC 8785's inputs
# (Apache-2.0, cyberphone/json-canonicalization; wallet-core/tests/data/jcs)
# (target icao).
ICAO = os.path.join(ROOT, "..", "shared", "interop", "icao-vds-nc")
for path in sorted(glob.glob(os.path.join(ICAO, "*.json")) + glob.glob(os.path.join(ICAO, "*.der"))):
    put("icao", open(path, "rb").read())
for path in sorted(glob.glob(os.path.join(ROOT, "wallet-core", "tests", "data", "icao", "*.der"))):
    put("icao", open(path, "rb").read())
for path in sorted(glob.glob(os.path.join(ROOT, "wallet-core", "tests", "data", "jcs", "input", "*.json"))):
    put("icao", open(path, "rb").read())
put("icao", "[" + open(os.path.join(ICAO, "au-valid.json")).read() + "]")

# WHO DDCC core data sets (target ddcc), in the shape of
# wallet-core's samples::ddcc_vaccination_data and ddcc_test_data: each
# alone, and as CWT claims whose hcert (-260) holds it under key 3 or 4.
def cbor(v):
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for ib, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | ib]) + n.to_bytes(size, "big")
    if isinstance(v, bool):
        return bytes([0xF5 if v else 0xF4])
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())

icd = lambda code: {"system": "http://id.who.int/icd11/mms", "code": code}
person = {"name": "Test Citizen", "birthDate": "1980-04-12",
          "certificate": {"issuer": {"identifier": {"value": "XXA"}},
                          "hcid": {"value": "DDCC-TEST-0001"}, "version": "RC-2.0.0",
                          "period": {"start": "2030-01-01", "end": "2031-01-01"}}}
vs = dict(person, vaccination={
    "vaccine": icd("XM0GQ8"), "brand": dict(icd("XM8NQ0"), display="Comirnaty"),
    "lot": "EW0001", "date": "2029-12-01", "dose": 2, "totalDoses": 2,
    "country": {"system": "urn:iso:std:iso:3166", "code": "XXA"}, "disease": icd("RA01")})
tr = dict(person, test={
    "pathogen": icd("XN109"), "type": {"system": "http://loinc.org", "code": "LP6464-4"},
    "date": "2030-01-01T20:00:00Z", "result": icd("QA02"), "centre": {"code": "Lab"},
    "country": {"system": "urn:iso:std:iso:3166", "code": "XXA"}})
for key, data in ((3, vs), (4, tr)):
    put("ddcc", cbor(data))
    put("ddcc", cbor({1: "XX", 4: 1924992000, 6: 1893456000, -260: {key: data}}))

# A wallet's files for wallet_store: the first byte says where the member
# file ends (of 255) and the visit log begins.
payloads = [json.load(open(p))["payload"] for p in
            sorted(glob.glob(os.path.join(ROOT, "spec", "vectors", "*.json")))
            if "payload" in json.load(open(p))]
member = json.dumps({"format": 1, "member": "me", "credentials": [
    {"payload": pl, "added_at": "2026-11-01T08:00:00Z"} for pl in payloads[:4]]}).encode()
log = json.dumps({"format": 1, "retention_days": 14, "visits": [
    {"venue": "CD-METRO-L2-017", "name": "Metro Line 2", "area": "Chengdu",
     "at": "2026-11-01T09:30:00Z"}]}).encode()
put("wallet_store", bytes([round(255 * len(member) / (len(member) + len(log)))]) + member + log)
put("wallet_store", bytes([255]) + member)
put("wallet_store", bytes([0]) + log)

# QR images of a payload, PNG, rendered by the issuer.
if len(sys.argv) > 1:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "code.png")
        r = subprocess.run([sys.argv[1], "issue", "--kind", "venue", "--venue-id", "V-1",
                            "--venue-name", "Gate", "--area", "Chengdu", "--qr", out,
                            "--data", os.path.join(tmp, "d")], capture_output=True)
        if r.returncode == 0:
            png = open(out, "rb").read()
            put("qr_image", png)
            # The same code as a grey plane for qr_luma: width (u16 LE) then pixels.
            put("qr_luma", (29).to_bytes(2, "little") + bytes(29 * 29))
        else:
            print("qr seeds skipped:", r.stderr.decode()[-200:], file=sys.stderr)
print("seeds written to", CORPUS)
