import os

from django.core.wsgi import get_wsgi_application

from bieb.core.malloc import malloc_arenas_limit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bieb.settings")

# Before the server starts its threads: their password checks then share one 19 MiB block.
malloc_arenas_limit()

application = get_wsgi_application()
