import pytest

from portal.config import ConfigError, load_settings


def test_defaults(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'portal.db'}"
    assert settings.storage_backend == "local" and settings.queue_mode == "embedded"
    assert settings.max_upload_mb == 512
    assert (tmp_path / "secret_key").exists()
    assert load_settings({"PORTAL_DATA_DIR": str(tmp_path)}).secret_key == settings.secret_key


@pytest.mark.parametrize("env, message", [
    ({"MAX_UPLOAD_MB": "lots"}, "whole number"),
    ({"MAX_UPLOAD_MB": "0"}, "greater than 0"),
    ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND"),
    ({"STORAGE_BACKEND": "s3"}, "S3_BUCKET"),
    ({"S3_ENDPOINT_URL": "localhost:8333", "STORAGE_BACKEND": "s3", "S3_BUCKET": "b"}, "http"),
    ({"REDIS_URL": "localhost"}, "redis://"),
    ({"DATABASE_URL": "nonsense"}, "SQLAlchemy URL"),
])
def test_bad_values_are_refused(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"PORTAL_DATA_DIR": str(tmp_path), **env})


def test_postgres_urls_use_psycopg(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://u@h/db",
                              "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.queue_mode == "redis"
