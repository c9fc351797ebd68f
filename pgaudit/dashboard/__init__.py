"""``pgaudit serve``: a read-only web dashboard over the history store (issue 15).

``app`` holds the routes, ``pages`` what each page shows, ``auth`` who may reach it. Starlette
and uvicorn come with the ``serve`` extra; the rest of pgaudit never imports this package.
"""

from __future__ import annotations

import os
from pathlib import Path

from pgaudit.errors import PgauditError


def serve(store_url: str | None, *, host: str, port: int, config: Path | None) -> None:
    """Check the bind, open the store read-only, and serve until interrupted."""
    try:
        import uvicorn

        from pgaudit.dashboard.app import create_app
        from pgaudit.dashboard.readonly import open_read_only
    except ImportError:
        raise PgauditError("the dashboard needs the pgaudit[serve] extra: "
                           "pip install 'pgaudit[serve]'") from None
    from pgaudit import api
    from pgaudit.dashboard.auth import TOKEN_ENV, check_bind, is_local

    if not 0 < port < 65536:
        raise PgauditError(f"--port {port}: use 1 to 65535")
    token = os.environ.get(TOKEN_ENV)
    check_bind(host, token)
    cfg = api.load_config(config)
    url = api.store_url(store_url, cfg)
    if not url:
        raise PgauditError("no history store: give --store URL (or [store] url in the config)")
    store = open_read_only(url)
    # waivers come from a config file; without one the waivers page says so
    given = config is not None or Path("pgaudit.toml").exists()
    local = ["127.0.0.1", "localhost", "::1", "[::1]"] if is_local(host) else None
    app = create_app(store, waivers=list(cfg.waivers) if given else None, token=token,
                     allowed_hosts=local)
    print(f"pgaudit dashboard on http://{host}:{port}/ over {store.display} "
          f"({'token required' if token else 'no token: this machine only'}); Ctrl-C stops it",
          flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
