#!/usr/bin/env python3
"""Writes a synthetic OFAC SDN.CSV-shaped file (no header, `-0- ` nulls, CRLF, `] [` programmes,
a trailing 0x1A) of N entries, deterministic from a seed, for the import benchmark at scale:

    python3 benches/gen_ofac_sdn_csv.py 1000000 7 target/sdn-1m.csv
    /usr/bin/time -v target/release/sanctions-ledger --ledger target/big import target/sdn-1m.csv \
        --list us-ofac-sdn --published-on 2024-01-02

Standard library only. The names and programmes are made up; nothing in it is real.
"""
import random
import sys

PROGRAMMES = ["SDGT", "GLOMAG", "IRAN", "RUSSIA-EO14024", "UKRAINE-EO13662", "CUBA", "SDNTK",
              "NPWMD", "IFSR", "CYBER2", "UHRPA", "VENEZUELA-EO13850"]
WORDS = ["ALPHA", "BRAVO", "CEDAR", "DELTA", "EMBER", "FALCON", "GRANITE", "HARBOR", "IVORY",
         "JUNIPER", "KESTREL", "LANTERN", "MERIDIAN", "NORTH", "OPAL", "PRAIRIE", "QUARTZ"]


def main():
    count, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    with open(out, "wb") as f:
        for i in range(count):
            uid = 100000 + i
            person = rng.random() < 0.6
            programmes = "] [".join(sorted(rng.sample(PROGRAMMES, 1 if rng.random() < 0.85 else 2)))
            if person:
                name = f"{rng.choice(WORDS)}{i}, {rng.choice(WORDS).title()}"
                kind = "individual"
                remarks = (f"DOB {rng.randint(1,28):02d} Jan {rng.randint(1940,2000)}; "
                           f"nationality {rng.choice(WORDS).title()}land; "
                           f"a.k.a. '{rng.choice(WORDS)} {i}'.")
            else:
                name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} TRADING {i} LLC"
                kind = "-0- "
                remarks = f"Linked To: {rng.choice(WORDS)} {rng.randint(0, count)}."
            row = f'{uid},"{name}",{kind},"{programmes}",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"{remarks}"\r\n'
            f.write(row.encode("latin-1"))
        f.write(b"\x1a")


if __name__ == "__main__":
    main()
