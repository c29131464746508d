"""Brand drivers shipped with Klima, one package per brand and link kind.

Each package exports a ``DRIVER`` (:class:`klima.driver.DriverInfo`) that is registered through
the ``klima.drivers`` entry-point group; the daemon core never imports this package directly.
"""
