"""Ingestion: canonical tables → validation with clear errors → idempotent bulk load."""

from interestgraph.ingest.reader import RawTable, read_folder
from interestgraph.ingest.report import IngestReport, Problem
from interestgraph.ingest.run import bulk_ingest, ingest

__all__ = ["IngestReport", "Problem", "RawTable", "bulk_ingest", "ingest", "read_folder"]
