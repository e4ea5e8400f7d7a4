"""``exitopt serve``: a page in the analyst's browser that re-plans while the meeting waits.

:mod:`.solving` loads the scenario, applies pins and changed numbers and runs each solve in its
own process; :mod:`.views` turns run folders into what the page shows; :mod:`.server` is the
HTTP server (standard library only) with one session per browser.
"""
