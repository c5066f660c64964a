"""maexlab: research and evaluation tools for data on Dutch social initiatives.

>>> import maexlab
>>> d = maexlab.load("embedded")      # doctest: +SKIP
>>> d.synthetic                        # doctest: +SKIP
True
"""

from maexlab.data.loader import MaexData, load

__all__ = ["MaexData", "load", "__version__"]
__version__ = "0.1.0"
