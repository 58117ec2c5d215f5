"""WSGI entry point: `gunicorn wsgi:app`. Settings come from ZHUNRU_* environment variables."""

from api import create_app

app = create_app()
