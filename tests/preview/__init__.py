"""Preview site tests: the pages' contents, and the built site opened in a real Chromium."""
