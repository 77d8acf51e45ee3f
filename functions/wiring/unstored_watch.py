"""The unstored watch assembled from the environment the stack sets."""

from __future__ import annotations

import os
from functools import cache

from functions.adapters.aws import aws_service
from functions.adapters.unstored_bodies import S3UnstoredBodies
from functions.names import Env
from functions.unstored_watch.service import UnstoredWatch


@cache
def unstored_watch() -> UnstoredWatch:
    return UnstoredWatch(S3UnstoredBodies(aws_service("s3"), os.environ[Env.BUCKET]))
