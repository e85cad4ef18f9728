#!/usr/bin/env python3
"""A competent peer for the ledger's answers: the same facts in SQLite (standard library only).

Issue 17 measures sanctions-ledger against an embedded SQL engine holding the same facts. This
script is that peer. It reads the ledger's records through `sanctions-ledger log --json` (paged),
replays them following ARCHITECTURE.md's projection semantics (facts per listing, corrections
that retract or supersede, programme-wide renewals, the evaluation of intervals, subject details
on a date, the warnings), and stores the result as one row per listing per stretch of effective
dates over which its answer row is constant, keyed and indexed. It answers in the ledger's own
JSON shapes:

    state --as-of D [--authority A] [--programme P] [--subject S]
    diff --from D1 --to D2 [--authority A] [--programme P] [--subject S]

It knows only the head (it cannot answer --known-at for an earlier time: that is the ledger's
bitemporal part, and the reason it is not the tool), and it refuses ledgers with imported list
snapshots (coverage and since_basis are not modelled), naming the record.

Commands:
    build  LEDGER_BIN LEDGER_DIR DB            build the peer's database from `log --json`
    ask    DB (state|diff) [question flags]    answer one question, as JSON on stdout
    check  LEDGER_BIN LEDGER_DIR DB [--questions N] [--seed S]
                                               compare both on N random questions (exit 1 on
                                               the first difference, naming it)
    bench  LEDGER_BIN LEDGER_DIR DB [--runs N] [--questions N] [--seed S]
                                               check first, then time whole processes, both
                                               tools interleaved, and print medians and ratios

Whole process means: a fresh `python3 peer_sqlite.py ask ...` against a fresh `sanctions-ledger
... --json`, stdout to /dev/null, wall time and peak RSS from wait4. Warm cache: each question is
run once by both before timing.
"""

import argparse
import datetime
import json
import os
import sqlite3
import subprocess
import sys
import time

LOG_PAGE = 50_000
# Whole-process runs are never cut short; this bounds a run that hangs.
RUN_TIMEOUT_S = 3600
FOREVER = 10**7  # an ordinal after every civil date: "no end"


def ordinal(text):
    return datetime.date.fromisoformat(text).toordinal()


def civil(day):
    return datetime.date.fromordinal(day).isoformat()


# ---- Reading the log ------------------------------------------------------------------------


def read_log(ledger_bin, ledger_dir):
    """Yields (head_json, record) for every record, paged through `log --json`."""
    start = 1
    while True:
        out = subprocess.run(
            [ledger_bin, "--ledger", ledger_dir, "log", "--json",
             "--from", str(start), "--limit", str(LOG_PAGE)],
            check=True, capture_output=True,
        ).stdout
        page = json.loads(out)
        records = page["records"]
        for record in records:
            yield page, record
        if not records or records[-1]["sequence"] >= page["head_sequence"]:
            return
        start = records[-1]["sequence"] + 1


# ---- The projection semantics (ARCHITECTURE.md, "Projection semantics") ----------------------


def measures_for(body, subject_id):
    for entry in body.get("measures_by_subject", []) or []:
        if entry.get("subject") == subject_id:
            return entry["measures"]
    return body.get("measures", [])


def facts_of_body(body, effective_on, source, via):
    """(listing facts [(key, fact)], programme facts [(programme, fact)], subject facts)."""
    kind = body["kind"]
    day = ordinal(effective_on)
    listings, programmes, subjects = [], [], []

    def fact(what, **more):
        return dict(source=source, via=via, day=day, kind=what, **more)

    if kind in ("designation", "retaliation"):
        until = body.get("until")
        for subject in body["subjects"]:
            key = (body["authority"], body["programme"], subject["id"])
            listings.append((key, fact("open", until=until and ordinal(until),
                                       measures=measures_for(body, subject["id"]),
                                       retaliation=kind == "retaliation")))
            subjects.append((subject["id"], dict(source=source, via=via, day=day, subject=subject)))
    elif kind == "delisting":
        for subject in body["subject_ids"]:
            listings.append(((body["authority"], body["programme"], subject), fact("close")))
    elif kind == "renewal":
        ids = body.get("subject_ids", []) or []
        if not ids:
            programmes.append(((body["authority"], body["programme"]),
                               fact("renew", until=ordinal(body["until"]))))
        for subject in ids:
            listings.append(((body["authority"], body["programme"], subject),
                             fact("renew", until=ordinal(body["until"]))))
    elif kind == "amendment":
        subject = body["subject"]
        subjects.append((subject["id"], dict(source=source, via=via, day=day, subject=subject)))
        if body.get("authority") and body.get("programme") and body.get("measures"):
            listings.append(((body["authority"], body["programme"], subject["id"]),
                             fact("amend", measures=body["measures"])))
    elif kind in ("statement", "correction"):
        pass
    else:
        raise SystemExit(f"peer: events of kind {kind!r} are not modelled by this peer")
    return listings, programmes, subjects


class Replay:
    """Every fact, and what each correction decided, at the head."""

    def __init__(self):
        self.by_id = {}
        self.listing_facts = {}  # key -> [fact]
        self.programme_facts = {}  # (authority, programme) -> [fact]
        self.subject_facts = {}  # subject -> [fact]
        self.corrections = {}  # target -> [(correction, is_retraction)]
        self.head = None

    def add(self, page, record):
        self.head = page
        event = record["event"]
        sequence = record["sequence"]
        if event.get("observed") is not None or event["kind"] in ("snapshot", "observation"):
            raise SystemExit(f"peer: record {sequence} comes from an imported list; this peer "
                             "does not model coverage or since_basis")
        self.by_id[event["id"]] = sequence
        if event["kind"] == "correction":
            target = self.by_id[event["corrects"]]
            replacement = event.get("replacement")
            self.corrections.setdefault(target, []).append((sequence, replacement is None))
            if replacement is None:
                return
            facts = facts_of_body(replacement, replacement["effective_on"], target, sequence)
        else:
            facts = facts_of_body(event, event["effective_on"], sequence, None)
        listings, programmes, subjects = facts
        for key, fact in listings:
            self.listing_facts.setdefault(key, []).append(fact)
        for programme, fact in programmes:
            self.programme_facts.setdefault(programme, []).append(fact)
        for subject, fact in subjects:
            self.subject_facts.setdefault(subject, []).append(fact)

    def status(self, target, memo):
        """('original',) | ('retracted', c) | ('superseded', c), at the head."""
        if target in memo:
            return memo[target]
        result = ("original", None)
        for correction, retraction in reversed(self.corrections.get(target, [])):
            if self.status(correction, memo)[0] == "retracted":
                continue
            result = ("retracted", correction) if retraction else ("superseded", correction)
            break
        memo[target] = result
        return result

    def counts(self, fact, memo):
        status, by = self.status(fact["source"], memo)
        if fact["via"] is None:
            return status == "original"
        return status == "superseded" and by == fact["via"]


def evaluate(own, broad):
    """A listing's intervals and warnings, from the facts that count."""
    facts = [(f, False) for f in own] + [(f, True) for f in broad]
    facts.sort(key=lambda pair: (pair[0]["day"], pair[0]["source"],
                                 -1 if pair[0]["via"] is None else pair[0]["via"]))
    intervals, warnings, current = [], [], None

    def contains(interval, day):
        return interval["start"] <= day and (interval["end"] is None or day <= interval["end"])

    for fact, is_broad in facts:
        day = fact["day"]
        in_force = current is not None and contains(current, day)
        kind = fact["kind"]
        if kind == "open":
            if in_force:
                current["end"] = fact["until"]
                current["ends"].append((day, fact["until"], fact["source"]))
                current["measures"].append((day, fact["measures"]))
                current["why"].append((day, fact["source"]))
            else:
                if current is not None:
                    intervals.append(current)
                current = dict(start=day, end=fact["until"], measures=[(day, fact["measures"])],
                               ends=[(day, fact["until"], fact["source"])],
                               why=[(day, fact["source"])], delisted_by=None, not_renewed=None,
                               retaliation=fact["retaliation"])
        elif kind == "close":
            if current is not None and in_force:
                current["end"] = day - 1
                current["ends"].append((day, current["end"], fact["source"]))
                current["why"].append((day, fact["source"]))
                current["delisted_by"] = fact["source"]
                intervals.append(current)
                current = None
            elif (current is not None and current["end"] is not None and current["end"] < day
                  and current["not_renewed"] is None):
                current["not_renewed"] = (day, fact["source"])
                current["why"].append((day, fact["source"]))
            else:
                warnings.append((day, fact["source"],
                                 f"delisting on {civil(day)} of a listing that was not in force then"))
        elif kind == "renew":
            if current is not None and in_force and current["end"] is not None:
                current["end"] = fact["until"]
                current["ends"].append((day, fact["until"], fact["source"]))
                current["why"].append((day, fact["source"]))
            elif is_broad:
                pass
            elif current is not None and in_force:
                warnings.append((day, fact["source"], f"renewal on {civil(day)} of a listing without an end date; it stays open-ended"))
            else:
                warnings.append((day, fact["source"], f"renewal on {civil(day)} of a listing that was not in force then (lapsed, delisted or not yet listed); it is not revived"))
        elif kind == "amend":
            if current is not None and in_force:
                current["measures"].append((day, fact["measures"]))
                current["why"].append((day, fact["source"]))
            else:
                warnings.append((day, fact["source"], f"amendment on {civil(day)} of a listing that was not in force then"))
    if current is not None:
        intervals.append(current)
    return intervals, warnings


def last_on_or_before(pairs, day):
    """The last entry of `pairs` (by their first field, in order) on or before `day`."""
    found = None
    for entry in pairs:
        if entry[0] <= day:
            found = entry
    return found


# ---- Building the database ------------------------------------------------------------------

SCHEMA = """
CREATE TABLE head (json TEXT NOT NULL);
-- One row per listing per stretch [lo, hi] of effective dates over which it is in force with
-- the same answer row (measures, end date, why).
-- the same answer row (measures, end date, why), stored as the ledger prints it but for the
-- subject's kind and names, which come from `detail` on the date asked about.
CREATE TABLE stretch (
    skey BLOB NOT NULL, authority TEXT NOT NULL, programme TEXT NOT NULL, subject TEXT NOT NULL,
    lo INTEGER NOT NULL, hi INTEGER NOT NULL,
    measures TEXT NOT NULL, since TEXT NOT NULL, until TEXT, counter_sanction INTEGER NOT NULL,
    why TEXT NOT NULL,
    -- how the interval ends, for a diff's reason: its end, delisting and recorded non-renewal
    interval_end INTEGER, delisted_by INTEGER, not_renewed_on INTEGER, not_renewed_by INTEGER
);
CREATE INDEX stretch_lo ON stretch (lo, hi);
CREATE INDEX stretch_subject ON stretch (subject, lo);
CREATE INDEX stretch_authority ON stretch (authority, lo);
-- A subject's details from each date on (counted at the head), by date then record.
CREATE TABLE detail (
    id INTEGER PRIMARY KEY, subject TEXT NOT NULL, day INTEGER NOT NULL, ord INTEGER NOT NULL,
    kind TEXT NOT NULL, names TEXT NOT NULL
);
CREATE INDEX detail_subject ON detail (subject, day, ord);
CREATE TABLE warning (
    skey BLOB NOT NULL, ord INTEGER NOT NULL, authority TEXT NOT NULL, programme TEXT NOT NULL,
    subject TEXT NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL, row TEXT NOT NULL
);
CREATE INDEX warning_lo ON warning (lo);
CREATE INDEX warning_subject ON warning (subject, lo);
CREATE INDEX warning_authority ON warning (authority, lo);
"""


def row_json(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def skey(key):
    authority, programme, subject = key
    return "\0".join([subject, authority, programme]).encode()


def no_decision_message(end, set_by):
    return (f"in force through {civil(end)} (the end date record {set_by} set); no renewal, "
            "delisting or other decision is recorded after it, so it is shown as not in force "
            f"from {civil(end + 1)}: whether it was renewed is not known to this ledger")


def build(ledger_bin, ledger_dir, db_path):
    started = time.monotonic()
    replay = Replay()
    for page, record in read_log(ledger_bin, ledger_dir):
        replay.add(page, record)
    if os.path.exists(db_path):
        os.remove(db_path)
    db = sqlite3.connect(db_path)
    db.executescript(SCHEMA)
    head = replay.head or {"head_sequence": 0}
    db.execute("INSERT INTO head VALUES (?)",
               (row_json(head_of(head, ledger_bin, ledger_dir)),))
    memo = {}
    # A subject's details counted at the head, by effective date then record: the answer shows
    # the latest effective on or before the date, else the earliest.
    details = {}
    for subject, facts in replay.subject_facts.items():
        counted = sorted((f for f in facts if replay.counts(f, memo)),
                         key=lambda f: (f["day"], f["source"]))
        details[subject] = [(f["day"], f["subject"]["kind"], f["subject"]["names"]) for f in counted]

    stretches, warnings = [], []
    for key, own in replay.listing_facts.items():
        own = [f for f in own if replay.counts(f, memo)]
        broad = [f for f in replay.programme_facts.get(key[:2], []) if replay.counts(f, memo)]
        intervals, misfits = evaluate(own, broad)
        authority, programme, subject = key
        sk = skey(key)
        listing = f"{authority}/{programme}/{subject}"
        for ord_, (day, sequence, message) in enumerate(misfits):
            warnings.append((sk, ord_, authority, programme, subject, day, FOREVER, row_json(
                {"kind": "does_not_fit", "listing": listing, "date": civil(day),
                 "sequence": sequence, "message": message})))
        for index, interval in enumerate(intervals):
            start, end = interval["start"], interval["end"]
            stop = FOREVER if end is None else end
            breaks = sorted({day for day, _ in interval["why"] if start <= day <= stop} | {start})
            for at, lo in enumerate(breaks):
                hi = breaks[at + 1] - 1 if at + 1 < len(breaks) else stop
                measures = last_on_or_before(interval["measures"], lo)
                ends = last_on_or_before(interval["ends"], lo)
                until = ends[1] if ends else end
                why = [sequence for day, sequence in interval["why"] if day <= lo]
                nr = interval["not_renewed"]
                stretches.append((sk, authority, programme, subject, lo, hi,
                                  row_json(measures[1] if measures else []), civil(start),
                                  None if until is None else civil(until),
                                  int(interval["retaliation"]), row_json(why), end,
                                  interval["delisted_by"], nr and nr[0], nr and nr[1]))
            # Past its end with nothing decided: from the day after its end until the next
            # interval begins or a recorded non-renewal takes effect.
            if interval["delisted_by"] is None and end is not None:
                hi = FOREVER
                if index + 1 < len(intervals):
                    hi = min(hi, intervals[index + 1]["start"] - 1)
                if interval["not_renewed"] is not None:
                    hi = min(hi, interval["not_renewed"][0] - 1)
                set_by = last_on_or_before(interval["ends"], end)
                set_by = set_by[2] if set_by else 0
                if end + 1 <= hi:
                    warnings.append((sk, 1_000_000, authority, programme, subject, end + 1, hi,
                                     row_json({"kind": "no_decision_recorded",
                                               "listing": listing, "date": civil(end),
                                               "sequence": set_by,
                                               "message": no_decision_message(end, set_by)})))
    stretches.sort()
    warnings.sort()
    db.executemany("INSERT INTO stretch VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", stretches)
    db.executemany("INSERT INTO warning VALUES (?,?,?,?,?,?,?,?)", warnings)
    db.executemany("INSERT INTO detail (subject, day, ord, kind, names) VALUES (?,?,?,?,?)",
                   [(subject, day, ord_, kind, row_json(names))
                    for subject, rows in details.items()
                    for ord_, (day, kind, names) in enumerate(rows)])
    db.commit()
    db.execute("VACUUM")
    db.close()
    return dict(stretches=len(stretches), warnings=len(warnings), subjects=len(details),
                seconds=time.monotonic() - started, bytes=os.path.getsize(db_path))


def head_of(page, ledger_bin, ledger_dir):
    """The ledger's `known_at` at the head, from `head --json`."""
    out = subprocess.run([ledger_bin, "--ledger", ledger_dir, "head", "--json"], check=True,
                         capture_output=True).stdout
    head = json.loads(out)
    return {"sequence": head.get("sequence", page.get("head_sequence")),
            "hash": head.get("hash"), "time": None, "head": True,
            "head_sequence": head.get("sequence", page.get("head_sequence")),
            "head_hash": head.get("hash")}


# ---- Answering ------------------------------------------------------------------------------


class Peer:
    """Answers from the database: rows stored ready to print, selected by date range."""

    def __init__(self, db_path):
        self.db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        self.known_at = self.db.execute("SELECT json FROM head").fetchone()[0]

    @staticmethod
    def where(filters):
        clauses, args = [], []
        for column in ("authority", "programme", "subject"):
            if filters.get(column) is not None:
                clauses.append(f"{column} = ?")
                args.append(filters[column])
        return "".join(f" AND {c}" for c in clauses), args

    # The ledger's row, built by SQLite: the subject's details on the date are the latest
    # effective on or before it, else the earliest.
    ROW = """json_object('authority', s.authority, 'programme', s.programme,
        'subject', s.subject, 'subject_kind', d.kind, 'names', json(coalesce(d.names, '[]')),
        'measures', json(s.measures), 'since', s.since, 'since_basis', NULL, 'until', s.until,
        'counter_sanction', json(CASE WHEN s.counter_sanction THEN 'true' ELSE 'false' END),
        'why', json(s.why))"""
    def rows(self, day, filters, columns):
        extra, args = self.where(filters)
        extra = extra.replace(" AND ", " AND s.")
        names = {"p0": day}
        clauses = extra
        for number, value in enumerate(args, 1):
            clauses = clauses.replace("?", f":p{number}", 1)
            names[f"p{number}"] = value
        return self.db.execute(
            f"SELECT {columns.replace('row', self.ROW)} FROM stretch s "
            "LEFT JOIN detail d ON d.id = coalesce("
            "  (SELECT id FROM detail x WHERE x.subject = s.subject AND x.day <= :p0"
            "   ORDER BY x.day DESC, x.ord DESC LIMIT 1),"
            "  (SELECT id FROM detail x WHERE x.subject = s.subject ORDER BY x.day, x.ord LIMIT 1)) "
            f"WHERE s.lo <= :p0 AND :p0 <= s.hi{clauses} ORDER BY s.skey", names)

    def warnings(self, day, filters):
        extra, args = self.where(filters)
        rows = self.db.execute(
            f"SELECT row FROM warning WHERE lo <= ? AND ? <= hi{extra} ORDER BY skey, ord",
            [day, day] + args)
        return ",".join(row for (row,) in rows)

    def state(self, as_of, filters):
        """The answer's JSON text."""
        day = ordinal(as_of)
        listings = ",".join(row for (row,) in self.rows(day, filters, "row"))
        return (f'{{"ok":true,"as_of":"{as_of}","known_at":{self.known_at},"coverage":[],'
                f'"listings":[{listings}],"warnings":[{self.warnings(day, filters)}]}}')

    def diff(self, start, stop, filters):
        """The answer's JSON text: both dates' rows merged in key order."""
        first, last = ordinal(start), ordinal(stop)
        columns = ("s.skey, s.measures, s.since, s.until, row, s.interval_end, s.delisted_by, "
                   "s.not_renewed_on, s.not_renewed_by")
        before = self.rows(first, filters, columns).fetchall()
        after = self.rows(last, filters, columns).fetchall()
        came, left, changed = [], [], []
        i = j = 0
        while i < len(before) or j < len(after):
            a = before[i] if i < len(before) else None
            b = after[j] if j < len(after) else None
            if b is None or (a is not None and a[0] < b[0]):
                _, _, _, _, row, end, delisted_by, nr_on, nr_by = a
                if delisted_by is not None and end is not None and end < last:
                    reason, by = "delisted", delisted_by
                elif end is not None and end < last and nr_on is not None and nr_on <= last:
                    reason, by = "not_renewed", nr_by
                elif end is not None and end < last:
                    reason, by = "no_decision_recorded", None
                else:
                    reason, by = "ended", None
                left.append(f'{{"listing":{row},"reason":"{reason}","by":'
                            f'{"null" if by is None else by}}}')
                i += 1
            elif a is None or b[0] < a[0]:
                came.append(b[4])
                j += 1
            else:
                if a[1:4] != b[1:4]:
                    changed.append(f'{{"before":{a[4]},"after":{b[4]}}}')
                i += 1
                j += 1
        return (f'{{"ok":true,"from":"{start}","to":"{stop}","known_at":{self.known_at},'
                f'"coverage":[],"came_into_force":[{",".join(came)}],'
                f'"left_force":[{",".join(left)}],"changed":[{",".join(changed)}],'
                f'"warnings":[{self.warnings(last, filters)}]}}')


# ---- Questions, checking and timing ---------------------------------------------------------


def question_args(question):
    kind, *rest = question
    if kind == "state":
        as_of, filters = rest
        args = ["state", "--as-of", as_of]
    else:
        start, stop, filters = rest
        args = ["diff", "--from", start, "--to", stop]
    for name in ("authority", "programme", "subject"):
        if filters.get(name):
            args += [f"--{name}", filters[name]]
    return args


def random_questions(db_path, count, seed):
    """`count` questions: as of a date (every subject, one authority, one subject) and diffs."""
    import random

    db = sqlite3.connect(db_path)
    lo, hi = db.execute("SELECT min(lo), max(CASE WHEN hi < ? THEN hi ELSE lo END) FROM stretch",
                        (FOREVER,)).fetchone()
    authorities = [r[0] for r in db.execute("SELECT DISTINCT authority FROM stretch ORDER BY 1")]
    subjects = [r[0] for r in db.execute("SELECT DISTINCT subject FROM stretch ORDER BY 1")]
    db.close()
    rng = random.Random(seed)
    day = lambda: civil(rng.randint(lo - 30, hi + 365))  # noqa: E731
    questions = []
    for number in range(count):
        shape = number % 5
        if shape == 0:
            questions.append(("state", day(), {}))
        elif shape == 1:
            questions.append(("state", day(), {"authority": rng.choice(authorities)}))
        elif shape == 2:
            questions.append(("state", day(), {"subject": rng.choice(subjects)}))
        elif shape == 3:
            start = rng.randint(lo - 30, hi)
            questions.append(("diff", civil(start), civil(start + rng.randint(0, 730)), {}))
        else:
            start = rng.randint(lo - 30, hi)
            questions.append(("diff", civil(start), civil(start + 365),
                              {"authority": rng.choice(authorities)}))
    return questions


def run(argv):
    """Runs one whole process; (stdout bytes, wall seconds, peak RSS bytes or None).

    Peak RSS comes from GNU time (`/usr/bin/time`, Debian's package `time`) when it is there:
    a child's own rusage would carry this script's resident size from before its exec.
    """
    timed = os.path.exists("/usr/bin/time")
    rss_file = f"/tmp/peer_sqlite_rss.{os.getpid()}"
    if timed:
        argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv
    started = time.monotonic()
    process = subprocess.run(argv, capture_output=True, timeout=RUN_TIMEOUT_S)
    wall = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}): "
                         f"{process.stderr.decode(errors='replace')[:2000]}")
    rss = None
    if timed:
        with open(rss_file) as kilobytes:
            rss = int(kilobytes.read().split()[-1]) * 1024
        os.remove(rss_file)
    return process.stdout, wall, rss


def ours_argv(ledger_bin, ledger_dir, question):
    return [ledger_bin, "--ledger", ledger_dir] + question_args(question) + ["--json"]


def peer_argv(db_path, question):
    # -S -E: no site packages or environment (this machine's site imports take 0.15 s; the
    # peer needs only the standard library).
    return ([sys.executable, "-S", "-E", os.path.abspath(__file__), "ask", db_path]
            + question_args(question))


def first_difference(ours, peer, path="$"):
    if type(ours) is not type(peer):
        return f"{path}: ours {json.dumps(ours)[:200]}, peer {json.dumps(peer)[:200]}"
    if isinstance(ours, dict):
        for key in sorted(set(ours) | set(peer)):
            if key not in ours or key not in peer:
                return f"{path}.{key}: only in {'ours' if key in ours else 'the peer'}"
            found = first_difference(ours[key], peer[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(ours, list):
        for index, (a, b) in enumerate(zip(ours, peer)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        if len(ours) != len(peer):
            return f"{path}: ours has {len(ours)} entries, the peer {len(peer)}"
        return None
    return None if ours == peer else f"{path}: ours {ours!r}, peer {peer!r}"


def check(ledger_bin, ledger_dir, db_path, questions):
    """Asks both every question in-process for the peer; exits 1 at the first difference."""
    peer = Peer(db_path)
    for number, question in enumerate(questions, 1):
        ours = json.loads(run(ours_argv(ledger_bin, ledger_dir, question))[0])
        if question[0] == "state":
            theirs = json.loads(peer.state(question[1], question[2]))
        else:
            theirs = json.loads(peer.diff(question[1], question[2], question[3]))
        found = first_difference(ours, theirs)
        if found:
            print(f"question {number} ({' '.join(question_args(question))}): answers differ "
                  f"at {found}", file=sys.stderr)
            sys.exit(1)
        sizes = (len(ours.get("listings", [])) if question[0] == "state"
                 else len(ours["came_into_force"]) + len(ours["left_force"]) + len(ours["changed"]))
        print(f"  same answer {number}/{len(questions)}: {' '.join(question_args(question))} "
              f"({sizes} rows, {len(ours['warnings'])} warnings)", file=sys.stderr)
    print(f"checked: both answer the {len(questions)} questions identically", file=sys.stderr)


def folder_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def bench(ledger_bin, ledger_dir, db_path, runs, timed):
    """Medians of `runs` interleaved whole-process runs of each timed question."""
    import statistics

    print(f"{'question':58} {'ours s':>8} {'MB':>6} {'peer s':>8} {'MB':>6} {'ours/peer':>9}")
    results = []
    # What starting each process costs, with nothing asked: the floor under every figure.
    floors = {"ours": [ledger_bin, "--version"], "peer": [sys.executable, "-S", "-E", "-c", "0"]}
    floor = {who: statistics.median(run(argv)[1] for _ in range(runs)) for who, argv in floors.items()}
    print(f"{'(start-up alone: --version / python3 -S -E -c 0)':58} {floor['ours']:8.3f} "
          f"{'':6} {floor['peer']:8.3f}")
    for name, question in timed:
        argvs = {"ours": ours_argv(ledger_bin, ledger_dir, question),
                 "peer": peer_argv(db_path, question)}
        outputs = {who: run(argv)[0] for who, argv in argvs.items()}  # warm the cache
        if first_difference(json.loads(outputs["ours"]), json.loads(outputs["peer"])):
            raise SystemExit(f"{name}: the answers differ; run `check`")
        times = {"ours": [], "peer": []}
        rss = {"ours": 0, "peer": 0}
        for _ in range(runs):
            for who in ("ours", "peer"):
                _, wall, peak = run(argvs[who])
                times[who].append(wall)
                rss[who] = max(rss[who], peak or 0)
        ours, peer = statistics.median(times["ours"]), statistics.median(times["peer"])
        results.append(dict(question=name, argv=question_args(question), ours_s=ours,
                            ours_rss=rss["ours"], peer_s=peer, peer_rss=rss["peer"]))
        print(f"{name:58} {ours:8.3f} {rss['ours'] / 2**20:6.0f} {peer:8.3f} "
              f"{rss['peer'] / 2**20:6.0f} {ours / peer:9.2f}", flush=True)
    return {"start_up": floor, "questions": results}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build")
    b.add_argument("ledger_bin")
    b.add_argument("ledger_dir")
    b.add_argument("db")
    a = commands.add_parser("ask")
    a.add_argument("db")
    a.add_argument("question", choices=["state", "diff"])
    a.add_argument("--as-of")
    a.add_argument("--from", dest="start")
    a.add_argument("--to", dest="stop")
    for name in ("authority", "programme", "subject"):
        a.add_argument(f"--{name}")
    for name in ("check", "bench"):
        c = commands.add_parser(name)
        c.add_argument("ledger_bin")
        c.add_argument("ledger_dir")
        c.add_argument("db")
        c.add_argument("--questions", type=int, default=100)
        c.add_argument("--seed", type=int, default=17)
        c.add_argument("--runs", type=int, default=5)
        c.add_argument("--json-out", help="also write the figures here as JSON")
    args = parser.parse_args()

    if args.command == "build":
        print(json.dumps(build(args.ledger_bin, args.ledger_dir, args.db)))
    elif args.command == "ask":
        peer = Peer(args.db)
        filters = {name: getattr(args, name) for name in ("authority", "programme", "subject")}
        answer = (peer.state(args.as_of, filters) if args.question == "state"
                  else peer.diff(args.start, args.stop, filters))
        sys.stdout.write(answer)
    else:
        questions = random_questions(args.db, args.questions, args.seed)
        check(args.ledger_bin, args.ledger_dir, args.db, questions)
        if args.command == "bench":
            db = sqlite3.connect(args.db)
            subject = db.execute("SELECT subject FROM stretch GROUP BY subject "
                                 "ORDER BY count(*) DESC, subject LIMIT 1").fetchone()[0]
            db.close()
            timed = [
                ("full state 2012-06-30", ("state", "2012-06-30", {})),
                ("one authority's state 2012-06-30", ("state", "2012-06-30",
                                                       {"authority": "EU-COUNCIL"})),
                (f"one subject's state ({subject})", ("state", "2012-06-30",
                                                       {"subject": subject})),
                ("one-year diff 2011-06-30..2012-06-30",
                 ("diff", "2011-06-30", "2012-06-30", {})),
            ]
            results = bench(args.ledger_bin, args.ledger_dir, args.db, args.runs, timed)
            space = {"ledger_bytes": folder_bytes(args.ledger_dir),
                     "peer_bytes": os.path.getsize(args.db)}
            print(f"space: ledger folder {space['ledger_bytes'] / 2**20:.1f} MB, "
                  f"peer database {space['peer_bytes'] / 2**20:.1f} MB")
            if args.json_out:
                with open(args.json_out, "w") as out:
                    json.dump({**results, "space": space}, out, indent=1)


if __name__ == "__main__":
    main()
