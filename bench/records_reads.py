"""What reading a predictions folder's records costs (s61): ``read_records`` of a
``predict.json`` of about 366 KB (one made-up record repeated under new keys) read 20 times
within ``prediction_records_read_once`` (one read of the file, each caller its own records)
and outside it (each read reads and parses): least of ``--repeats`` process-CPU times, in ms
a read. Writes under a temporary folder; prints one JSON object. Run it with each tree's
``src`` first on ``PYTHONPATH`` to compare.

    PYTHONPATH=src python3 bench/records_reads.py
    PYTHONPATH=src python3 bench/records_reads.py --kb 1000 --repeats 11
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from pathlib import Path

from unetlab.inference.records import prediction_records_read_once, read_records

READS = 20


def _record(k: int) -> dict:
    """A record of about 1.6 KB: a model, its options and six outputs."""
    outputs = {
        f"img_{i:04d}.png": {"input": f"in/img_{i:04d}.tif", "sha256": "cd" * 32, "objects": i}
        for i in range(6)
    }
    return {
        "key": f"{k:064x}",
        "model": {"checkpoint": "best.pt", "sha256": "ab" * 32, "epoch": 40, "tile": 92},
        "options": {"overlap": 8, "blend": "gaussian", "threshold": 0.5, "min_size": 10},
        "normalization": {"mode": "dataset", "low": 1.0, "high": 99.0, "mean": [0.4]},
        "code": {"unetlab": "0.9", "commit": "c89dc5fe", "torch": "2.13.0", "numpy": "2.3"},
        "outputs": outputs,
    }


def _write(folder: Path, kb: int) -> int:
    """A ``predict.json`` of about ``kb`` KB in ``folder``; the number of its records."""
    records, size = {}, 0
    while size < kb * 1000:
        record = _record(len(records))
        records[record["key"]] = record
        size += len(json.dumps({"records": {record["key"]: record}}, indent=1))
    text = json.dumps({"records": records}, indent=1, sort_keys=True)  # as predict.json's
    (folder / "predict.json").write_text(text)
    return len(records)


def _ms_a_read(folder: Path, kept: bool, repeats: int) -> float:
    """Least process-CPU ms a read of ``READS`` reads, within the read-once scope or not."""
    best = float("inf")
    for _ in range(repeats):
        with prediction_records_read_once() if kept else contextlib.nullcontext():
            start = time.process_time()
            for _ in range(READS):
                read_records(folder)
            best = min(best, time.process_time() - start)
    return best / READS * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--kb", type=int, default=366)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        records = _write(folder, args.kb)
        kept = _ms_a_read(folder, True, args.repeats)
        fresh = _ms_a_read(folder, False, args.repeats)
        size = (folder / "predict.json").stat().st_size
    print(
        json.dumps(
            {
                "bytes": size,
                "records": records,
                "reads": READS,
                "ms_a_read_within_scope": round(kept, 2),
                "ms_a_read_outside": round(fresh, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
