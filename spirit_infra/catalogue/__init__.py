"""The Spirit flow catalogue: the guideline's two tables as data, with provenance and assumptions."""

from .load import DEFAULT_CATALOGUE, load_catalogue
from .model import Assumption, Catalogue, DnsName, Flow, Provenance

__all__ = ["DEFAULT_CATALOGUE", "load_catalogue", "Assumption", "Catalogue", "DnsName", "Flow", "Provenance"]
