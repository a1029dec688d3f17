"""Server-rendered pages: Jinja templates, their strings in each language, static assets."""
