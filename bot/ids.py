"""Command names and action ids, in one place for every adapter."""

COMMAND = "/notpromoted"

STAGE_NEXT = "stage_next"
STAGE_SNOOZE = "stage_snooze"
STAGE_STOP = "stage_stop"
STAGE_CHOICES = (STAGE_NEXT, STAGE_SNOOZE, STAGE_STOP)

FORGET_CONFIRM = "forget_confirm"
FORGET_CANCEL = "forget_cancel"
HOME_START = "home_start"

CHECKIN_KIND_STAGE = "stage"
CHECKIN_KIND_FINISHED = "finished"
# The Slack message metadata event type that tags every message the bot sends on its own.
MESSAGE_METADATA_TYPE = "notpromoted_checkin"
