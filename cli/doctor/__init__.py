"""`slipway doctor`: first-day failures diagnosed from AWS's side with boto3."""
