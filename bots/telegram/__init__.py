"""The Telegram adapter (python-telegram-bot 22): ``render`` (pure), ``handlers``, ``app``.

Commands answer in full in the private chat; in a group the bot posts one neutral line with a
button that opens the private chat on the topic, and deletes the command where it may.
"""
