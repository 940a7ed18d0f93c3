"""Build the shipped document-frequency table from the public datasets.

    python -m yuqing.pipeline.idf_build --data ../shared/data \\
        --out yuqing/pipeline/data/idf.tsv.gz

Reads the ``text`` column of every CSV in the sentiment, emotion, rumour, event and topic
folders, normalizes and segments each text with the pipeline's own stages, drops exact
repeats (public corpora repeat lines heavily), and counts in how many texts each token
occurs (stopwords, single characters and numbers included, so that the table serves
other TF-IDF users too). Tokens found in fewer than ``--min-df`` texts are left out.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from yuqing.errors import SourceError, UsageError
from yuqing.models import Document
from yuqing.pipeline.keywords import IdfTable
from yuqing.pipeline.normalize import Normalizer
from yuqing.pipeline.segment import Segmenter

FOLDER_PREFIXES = ("sentiment_", "emotion_", "rumor_", "event_", "topic_")
BATCH = 2000


def source_files(data: Path) -> list[Path]:
    """The CSV files with a ``text`` column in the dataset folders, sorted."""
    if not data.is_dir():
        raise UsageError(f"--data {data} is not a folder: point it at ../shared/data")
    files = []
    for folder in sorted(data.iterdir()):
        if not folder.is_dir() or not folder.name.startswith(FOLDER_PREFIXES):
            continue
        for path in sorted(folder.glob("*.csv")):
            with path.open(encoding="utf-8-sig", newline="") as handle:
                header = next(csv.reader(handle), [])
            if "text" in header:
                files.append(path)
    if not files:
        raise UsageError(f"no dataset CSV with a `text` column under {data}")
    return files


def read_texts(path: Path) -> Iterator[str]:
    csv.field_size_limit(1 << 24)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                text = row.get("text") or ""
                if text.strip():
                    yield text
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc


def build(files: Sequence[Path], *, min_df: int = 3, log: bool = True) -> IdfTable:
    """Count document frequencies over the distinct normalized texts of ``files``."""
    normalizer = Normalizer(max_chars=2000)
    segmenter = Segmenter(stopwords=False)  # stopwords get their (low) idf too
    seen: set[str] = set()
    df: Counter[str] = Counter()

    def flush(batch: list[Document]) -> None:
        for doc in segmenter.process(normalizer.process(batch)):
            text = doc.norm_text or doc.quoted_text
            if not text or text in seen:
                continue
            seen.add(text)
            tokens = doc.tokens if doc.norm_text else segmenter.cut(text)
            df.update(set(tokens))

    for path in files:
        start, before = time.perf_counter(), len(seen)
        batch: list[Document] = []
        for i, text in enumerate(read_texts(path)):
            batch.append(Document(id=str(i), source=path.name, text=text))
            if len(batch) >= BATCH:
                flush(batch)
                batch = []
        flush(batch)
        if log:
            took = time.perf_counter() - start
            print(f"{path}: {len(seen) - before} new texts in {took:.1f} s", file=sys.stderr)
    kept = {token: count for token, count in df.items() if count >= min_df}
    return IdfTable(kept, len(seen))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m yuqing.pipeline.idf_build", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("yuqing/pipeline/data/idf.tsv.gz"))
    parser.add_argument("--min-df", type=int, default=3, help="keep tokens in >= this many texts")
    args = parser.parse_args(argv)
    try:
        table = build(source_files(args.data), min_df=args.min_df)
    except (UsageError, SourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    table.save(args.out)
    size = args.out.stat().st_size
    print(f"wrote {args.out}: {len(table)} tokens, N={table.n_docs}, {size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
