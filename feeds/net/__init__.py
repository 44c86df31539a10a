"""HTTP: the fetcher's policy (deadlines, caps, redirects), the llhttp transport, address checks."""
