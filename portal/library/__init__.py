"""The collateral library: browse, upload, versions, retire, download.

routes.py (pages, blueprint `library`), api.py (JSON), services.py (use cases),
processing.py (after an upload: pages and thumbnails), tasks.py, serializers.py, stats.py."""
