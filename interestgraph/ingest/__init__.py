"""Ingestion: canonical tables → validation with clear errors → idempotent bulk load."""

from interestgraph.ingest.reader import RawTable, read_folder
from interestgraph.ingest.report import IngestReport, Problem
from interestgraph.ingest.run import ingest

__all__ = ["IngestReport", "Problem", "RawTable", "ingest", "read_folder"]
