"""Publish the static report to an S3 bucket the way one hosts a static site ("no servers, just buckets")."""

from __future__ import annotations

import gzip
import json
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

TEXT_TYPES = ("text/", "application/json", "application/javascript", "image/svg+xml", "application/xml")
HASHED_NAME = re.compile(r"\.[0-9a-f]{8,}\.[A-Za-z0-9]+$")  # name.<content hash>.ext never changes
SHORT_CACHE = "public, max-age=60, must-revalidate"
LONG_CACHE = "public, max-age=31536000, immutable"
DEFAULT_CACHE = "public, max-age=3600"


@dataclass(frozen=True)
class UploadPlan:
    """One object: where it goes and the headers it is served with."""

    path: Path
    key: str
    content_type: str
    cache_control: str
    gzip: bool


def parse_s3_url(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"--to {url!r}: expected s3://bucket[/prefix]")
    return parsed.netloc, parsed.path.strip("/")


def plan_uploads(site: Path, prefix: str) -> list[UploadPlan]:
    """Headers per file: Content-Type with charset for text, gzip for text, cache by kind of file."""
    if not (site / "index.html").is_file():
        raise FileNotFoundError(f"{site / 'index.html'}: no report to publish (run `dvc repro report`)")
    plans = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        relative = path.relative_to(site).as_posix()
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        is_text = content_type.startswith(TEXT_TYPES)
        if is_text and content_type.startswith(("text/", "application/json", "image/svg+xml")):
            content_type += "; charset=utf-8"
        if path.name == "index.html":
            cache = SHORT_CACHE
        elif HASHED_NAME.search(path.name):
            cache = LONG_CACHE
        else:
            cache = DEFAULT_CACHE
        plans.append(UploadPlan(path, f"{prefix}/{relative}" if prefix else relative, content_type, cache, is_text))
    return plans


def grant_public_read(client, bucket: str, prefix: str) -> dict:
    """Add to the bucket's policy one statement that lets anyone GET the objects under `prefix` (replacing this
    prefix's earlier statement, keeping every other one); returns the policy. Unlike object ACLs, this works on
    buckets with ACLs disabled (Object Ownership "bucket owner enforced", the default for new AWS buckets since
    April 2023); the bucket's Block Public Access settings must allow public policies."""
    from botocore.exceptions import ClientError

    try:
        policy = json.loads(client.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NoSuchBucketPolicy":
            raise
        policy = {"Version": "2012-10-17", "Statement": []}
    sid = "PitchpipePublicRead" + re.sub(r"[^A-Za-z0-9]", "", prefix.title())
    statement = {"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{bucket}/{prefix + '/' if prefix else ''}*"}
    policy["Statement"] = [s for s in policy.get("Statement", []) if s.get("Sid") != sid] + [statement]
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    return policy


def publish(site: str | Path, destination: str, public: str | None = None, endpoint_url: str | None = None,
            client=None) -> list[UploadPlan]:
    """Upload every file of `site` under `destination` (s3://bucket/prefix); returns what was uploaded. `public`:
    None (private), "acl" (each object public-read) or "policy" (a bucket-policy statement for the prefix)."""
    bucket, prefix = parse_s3_url(destination)
    plans = plan_uploads(Path(site), prefix)
    if client is None:
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint_url)
    for plan in plans:
        body = plan.path.read_bytes()
        extra = {"ContentType": plan.content_type, "CacheControl": plan.cache_control}
        if plan.gzip:
            body = gzip.compress(body, mtime=0)
            extra["ContentEncoding"] = "gzip"
        if public == "acl":
            extra["ACL"] = "public-read"
        client.put_object(Bucket=bucket, Key=plan.key, Body=body, **extra)
    if public == "policy":
        grant_public_read(client, bucket, prefix)
    return plans
