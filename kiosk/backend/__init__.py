"""The kiosk's side of the acceptance system: contract models, signing, client, outbox, catalogue cache.

Flows use ``kiosk.backend.service.BackendServices`` (built by ``build_backend(settings)``);
the other modules are its parts. The reference backend that implements the same contract is
the separate top-level package ``refbackend`` (extra ``heyiban-kiosk[refbackend]``); it shares
only ``models`` and ``signing`` with this package, and nothing here imports it.
"""
