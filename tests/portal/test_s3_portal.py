"""The portal on a real S3 server (SeaweedFS): uploads stream to the bucket,
downloads are short-lived presigned URLs."""

from __future__ import annotations

import io
import urllib.request
from dataclasses import replace

from portal import create_app
from portal.extensions import db
from portal.models import AssetVersion


def test_upload_and_presigned_download_on_seaweedfs(settings, seaweedfs_s3, s3_bucket_on_seaweedfs):
    settings = replace(settings, storage_backend="s3", s3_bucket=s3_bucket_on_seaweedfs,
                       s3_endpoint_url=seaweedfs_s3["endpoint_url"], s3_prefix="portal-test")
    app = create_app(settings, TESTING=True, AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False)
    client = app.test_client()
    with app.app_context():
        from portal.admin.services import save_user

        save_user("s3-marketer@example.com", role="marketer", password="correct-horse-battery")
        save_user("s3-rep@example.com", role="rep", password="correct-horse-battery")

    def token(email):
        body = client.post("/api/v1/tokens", json={"email": email, "password": "correct-horse-battery"}).get_json()
        return {"Authorization": f"Bearer {body['token']}"}

    marketer, rep = token("s3-marketer@example.com"), token("s3-rep@example.com")
    payload = b"Quarterly pricing \x00\x01 binary" * 1000
    created = client.post("/api/v1/assets", headers=marketer, content_type="multipart/form-data",
                          data={"title": "S3 price sheet", "content_type": "price_sheet",
                                "file": (io.BytesIO(payload), "prices 2027.bin")})
    assert created.status_code == 201, created.get_json()
    asset_id = created.get_json()["id"]
    with app.app_context():
        version = db.session.scalar(db.select(AssetVersion).where(AssetVersion.asset_id == asset_id))
        assert version.storage_key.startswith("assets/")

    response = client.get(f"/api/v1/assets/{asset_id}/download", headers=rep)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(seaweedfs_s3["endpoint_url"]) and "X-Amz-Expires=300" in location
    with urllib.request.urlopen(location, timeout=10) as remote:
        assert remote.read() == payload
        assert "prices 2027.bin" in remote.headers["Content-Disposition"]

    # The bucket holds the object under the configured prefix.
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=seaweedfs_s3["endpoint_url"],
                      config=Config(s3={"addressing_style": "path"}))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket_on_seaweedfs).get("Contents", [])]
    assert any(k.startswith("portal-test/assets/") for k in keys)
