"""Build-time code: source parsers, corpus build, synthetic lines, training and evaluation.

Nothing here is needed to screen text; it needs scikit-learn and the ``data/`` folder of a
repository checkout (``dualuse data build``, ``dualuse train``, ``dualuse evaluate``).
"""
