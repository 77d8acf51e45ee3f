"""Messages to the people who watch the alarm topic (SNS)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws import AwsService, error_code
from functions.failures import NotificationUnavailable

MAX_SUBJECT_CHARS = 100
"""SNS refuses longer subjects (and anything but printable ASCII in them)."""


class SnsAlarmNotifier:
    def __init__(self, sns: AwsService, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    def notify(self, subject: str, message: str, *, deadline: float) -> None:
        printable = "".join(ch if " " <= ch <= "~" else "?" for ch in subject)
        try:
            self._sns.call(
                "publish",
                deadline,
                TopicArn=self._topic_arn,
                Subject=printable[:MAX_SUBJECT_CHARS],
                Message=message,
            )
        except (ClientError, BotoCoreError) as error:
            raise NotificationUnavailable(error_code(error)) from error
