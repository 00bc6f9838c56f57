"""Discord adapter tests, through discord.py against a fake Discord on 127.0.0.1."""

import warnings

# discord.py imports the standard library's audioop (voice support, unused here), which
# warns on Python 3.11+; the suite turns warnings into errors, so import it quietly once.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import discord  # noqa: F401
