"""The preview site: every reply the bot can give, as Discord, Telegram and a terminal show it.

``safety-bot preview --out DIR`` writes static pages (no server, no JavaScript) for reviewers
and translators, built from the renderers the bots send with.
"""
