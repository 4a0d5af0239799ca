"""The Microsoft Teams adapter. bot.app.runtime imports its SDK parts only when Teams is set up."""

import warnings

# The SDK says this when it is imported, about a preview feature notpromoted does not use.
warnings.filterwarnings("ignore", message="HtmlWidgetSecurityPolicy is in preview")
