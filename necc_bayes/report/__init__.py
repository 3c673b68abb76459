"""Rendering only: HTML pages and figures drawn from data the other layers computed."""
