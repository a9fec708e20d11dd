"""The AWS CDK app that deploys Horizon's guest list: tables, functions, HTTP API and stream consumers."""
