"""`pitchpipe publish` against a real S3 server on loopback: objects and their headers read back."""

import gzip
import json
import os
import subprocess
import sys

import pytest

from s3server import CREDENTIALS, client, s3_server

from pitchpipe.evaluation.publish import LONG_CACHE, SHORT_CACHE, plan_uploads


@pytest.fixture
def site(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><p>report</p>" * 50)
    (site / "metrics.0123456789ab.json").write_text('{"rpa_50c": 0.97}')
    (site / "plot.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    (site / "clip.wav").write_bytes(b"RIFF" + bytes(100))
    return site


def publish_cli(*args, env_extra=None):
    env = dict(os.environ, **CREDENTIALS, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "pitchpipe.cli", "publish", *args], capture_output=True, text=True,
                          env=env)


def test_plan_headers(site):
    plans = {p.key: p for p in plan_uploads(site, "reports/v1")}
    assert set(plans) == {"reports/v1/index.html", "reports/v1/metrics.0123456789ab.json", "reports/v1/plot.svg",
                          "reports/v1/clip.wav"}
    assert plans["reports/v1/index.html"].cache_control == SHORT_CACHE
    assert plans["reports/v1/metrics.0123456789ab.json"].cache_control == LONG_CACHE
    assert plans["reports/v1/clip.wav"].gzip is False and plans["reports/v1/plot.svg"].gzip is True


def test_publish_to_s3_sets_type_encoding_cache_and_acl(site):
    with s3_server() as endpoint:
        s3 = client(endpoint)
        s3.create_bucket(Bucket="site")
        result = publish_cli("--to", "s3://site/pitch", "--site", str(site), "--endpoint-url", endpoint)
        assert result.returncode == 0, result.stderr
        index = s3.get_object(Bucket="site", Key="pitch/index.html")
        assert index["ContentType"] == "text/html; charset=utf-8"
        assert index["ContentEncoding"] == "gzip" and index["CacheControl"] == SHORT_CACHE
        assert gzip.decompress(index["Body"].read()) == (site / "index.html").read_bytes()
        hashed = s3.get_object(Bucket="site", Key="pitch/metrics.0123456789ab.json")
        assert hashed["CacheControl"] == LONG_CACHE and hashed["ContentType"].startswith("application/json")
        wav = s3.get_object(Bucket="site", Key="pitch/clip.wav")
        assert wav["ContentType"] in ("audio/x-wav", "audio/wav") and "ContentEncoding" not in wav
        assert wav["Body"].read() == (site / "clip.wav").read_bytes()
        grants = s3.get_object_acl(Bucket="site", Key="pitch/index.html")["Grants"]
        assert not any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in grants)

        assert publish_cli("--to", "s3://site/public", "--site", str(site), "--public", "--endpoint-url", endpoint).returncode == 0
        grants = s3.get_object_acl(Bucket="site", Key="public/index.html")["Grants"]
        assert any(g["Grantee"].get("URI", "").endswith("AllUsers") and g["Permission"] == "READ" for g in grants)


def test_public_by_bucket_policy_keeps_the_other_statements(site):
    """For buckets with ACLs disabled (the AWS default since 2023): a policy statement per prefix, no ACLs."""
    other = {"Sid": "TeamWrite", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
             "Action": "s3:PutObject", "Resource": "arn:aws:s3:::site/*"}
    with s3_server() as endpoint:
        s3 = client(endpoint)
        s3.create_bucket(Bucket="site")
        s3.put_bucket_policy(Bucket="site", Policy=json.dumps({"Version": "2012-10-17", "Statement": [other]}))
        for _ in range(2):  # publishing again replaces the prefix's statement instead of adding another
            result = publish_cli("--to", "s3://site/reports/v1", "--site", str(site), "--public-policy",
                                 "--endpoint-url", endpoint)
            assert result.returncode == 0, result.stderr
        statements = json.loads(s3.get_bucket_policy(Bucket="site")["Policy"])["Statement"]
        assert len(statements) == 2 and other in statements
        (public,) = [s for s in statements if s["Sid"] != "TeamWrite"]
        assert public["Effect"] == "Allow" and public["Principal"] == "*" and public["Action"] == "s3:GetObject"
        assert public["Resource"] == "arn:aws:s3:::site/reports/v1/*"
        grants = s3.get_object_acl(Bucket="site", Key="reports/v1/index.html")["Grants"]
        assert not any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in grants)


def test_publish_errors_are_clear(site, tmp_path):
    assert "expected s3://bucket" in publish_cli("--to", "gs://x", "--site", str(site)).stderr
    missing = publish_cli("--to", "s3://x/y", "--site", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "no report to publish" in missing.stderr
    with s3_server() as endpoint:
        no_bucket = publish_cli("--to", "s3://absent/y", "--site", str(site), "--endpoint-url", endpoint)
        assert no_bucket.returncode == 2 and "NoSuchBucket" in no_bucket.stderr
