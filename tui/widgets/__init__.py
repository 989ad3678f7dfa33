"""Widgets and screens of the Newsdesk chat app."""
