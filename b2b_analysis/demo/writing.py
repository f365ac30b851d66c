"""Writing one table to its file, CSV or Parquet, chunk by chunk, under a temporary
name until the whole data set is done."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import IO

import polars as pl

from b2b_analysis.demo.profiles import TIMESTAMP_FORMAT, Format, Profile

#: rows per Parquet row group of the generated files
_ROW_GROUP_ROWS = 250_000


class Sink:
    """One output file, written under a temporary name; :meth:`commit` renames it."""

    def __init__(self, path: Path, fmt: Format, profile: Profile) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.fmt = fmt
        self.profile = profile
        #: Parquet: each chunk goes to its own part file as it comes, so that memory
        #: holds one chunk, not the table (100M orders: 23 GiB otherwise)
        self.parts_dir = path.with_name(f".{path.name}.{os.getpid()}.parts")
        self.parts: list[Path] = []
        self.handle: IO[bytes] | None = None

    def add(self, frame: pl.DataFrame) -> None:
        """Append ``frame`` (the client's raw columns) to the file."""
        if self.fmt == "parquet":
            self._add_part(frame)
        else:
            self._append_csv(frame)

    def _add_part(self, frame: pl.DataFrame) -> None:
        self.parts_dir.mkdir(exist_ok=True)
        part = self.parts_dir / f"{len(self.parts):06d}.parquet"
        frame.write_parquet(part, compression="uncompressed", statistics=False)
        self.parts.append(part)

    def _append_csv(self, frame: pl.DataFrame) -> None:
        first = self.handle is None
        if self.handle is None:
            self.handle = open(self.tmp, "wb")  # noqa: SIM115 - closed in finish/discard
        frame.write_csv(
            self.handle,
            include_header=first,
            separator=self.profile.separator,
            date_format="%Y-%m-%d",
            datetime_format=TIMESTAMP_FORMAT if self.profile.timestamps else "%Y-%m-%dT%H:%M:%S",
            float_precision=2,
        )

    def finish(self) -> None:
        """Complete the temporary file."""
        if self.fmt == "parquet":
            # the parts, in order, streamed into one file with fixed-size row groups
            pl.scan_parquet(self.parts, glob=False).sink_parquet(
                self.tmp, compression="lz4", statistics=True, row_group_size=_ROW_GROUP_ROWS
            )
            shutil.rmtree(self.parts_dir)
            self.parts.clear()
        else:
            assert self.handle is not None
            self.handle.close()
            self.handle = None

    def commit(self) -> None:
        """Put the finished file in place."""
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        """Remove whatever was written."""
        if self.handle is not None:
            self.handle.close()
        self.tmp.unlink(missing_ok=True)
        shutil.rmtree(self.parts_dir, ignore_errors=True)
