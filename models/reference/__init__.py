"""Published models reproduced exactly, each with its source."""

from ._ayati2010 import Ayati2010, ayati2010
from ._komarova2003 import Komarova2003, komarova2003
from ._lemaire2004 import Lemaire2004, lemaire2004

__all__ = ["Ayati2010", "Komarova2003", "Lemaire2004", "ayati2010", "komarova2003", "lemaire2004"]
