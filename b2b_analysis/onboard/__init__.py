"""Onboarding a client: ``init`` proposes a params file from a folder of exports,
``check`` validates a params file and its data without computing KPIs."""
