"""The app's file store, chosen by configuration (local directory or S3)."""

from __future__ import annotations

from flask import Flask, current_app

from assets.storage import Storage, storage_from_settings


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    storage = app.config.get("STORAGE") or storage_from_settings(
        settings.storage_backend,
        local_root=str(settings.files_dir),
        s3_bucket=settings.s3_bucket,
        s3_endpoint_url=settings.s3_endpoint_url,
        s3_prefix=settings.s3_prefix,
    )
    app.extensions["collateral_storage"] = storage


def get_storage() -> Storage:
    return current_app.extensions["collateral_storage"]
