"""Embedding on a Ray cluster: the only module that imports Ray (and only when a build asks for it).

A pool of encoder actors, each loading the model once. `encode` cuts the build's group of chunks into
slices, sends them out in order, and puts the tagged results back in order; a slice whose actor died
is sent again to a fresh actor, so a lost worker costs only its in-flight slice. Reading, extraction,
staging and publishing stay in the build's own process: crash safety is exactly the local build's.
"""
from __future__ import annotations

import logging
import math
import os

import numpy as np

from index.embedding.embed import Embedder

log = logging.getLogger("archivist.ray")

NAMESPACE = "archivist"
SLICE = 64  # texts per task: small enough to spread a group over the workers, big enough to batch well
RETRIES = 3  # fresh actors tried for one slice before the build gives up


class RayError(RuntimeError):
    """Ray is not installed, the cluster cannot be reached, or every encoder died: one line says which."""


def connect(address: str) -> bool:
    """Join the cluster: "local" starts one on this machine, "auto" joins the one `ray start` made here
    (or RAY_ADDRESS), "ray://host:10001" a remote one. True when this call joined (and should leave);
    False when this process had already joined (a test, a notebook)."""
    try:
        import ray
    except ImportError:
        raise RayError("build --ray needs Ray: pip install 'archivist[ray]'") from None
    if ray.is_initialized():
        return False
    try:
        ray.init(address=None if address == "local" else address, namespace=NAMESPACE, log_to_driver=False,
                 include_dashboard=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        hint = " (start one with `ray start --head`, or use --ray local)" if address == "auto" else ""
        raise RayError(f"cannot join the Ray cluster at {address!r}: {' '.join(str(e).split())}{hint}") from None
    return True


def _actor_class():
    import ray

    @ray.remote(num_cpus=1, max_restarts=0)
    class Encoder:
        """One worker's copy of the model."""

        def __init__(self, model: str, batch_size: int, backend: str, device: str, threads: int):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            self.embedder = Embedder(model, batch_size, backend, device, threads)

        def encode(self, texts: list[str]) -> np.ndarray:
            return self.embedder.encode(texts)

    return Encoder


class RayEmbedder:
    """The Embedder interface the build uses (`encode`, `dim`, `describe`), on a pool of Ray actors.
    The cluster is joined and the actors made at the first `encode`: a build with nothing to embed
    never touches Ray."""

    def __init__(self, local: Embedder, address: str, workers: int = 0):
        self.local = local  # its settings (its model loads here only to tell the dimension of nothing to encode)
        self.address, self.wanted = address, workers
        self.actors: list = []
        self._ray = None
        self._joined = False
        self._made = 0

    def _start(self) -> None:
        if self._ray is not None:
            return
        self._joined = connect(self.address)
        import ray

        self._ray = ray
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self._cls = _actor_class()
        self.actors = [self._new_actor() for _ in range(self.wanted or max(1, cpus))]
        log.warning("embedding on Ray: %d encoder actor(s) on a cluster of %d CPU(s)", len(self.actors), cpus)

    def _new_actor(self):
        name = f"archivist-encoder-{os.getpid()}-{self._made}"
        self._made += 1
        e = self.local
        # one thread per actor: an actor holds one CPU, and N actors share the node's cores
        return self._cls.options(name=name).remote(e.model_name, e.batch_size, e.backend, e.wanted_device, 1)

    def describe(self) -> str:
        n = len(self.actors)
        return f"{self.local.backend} on Ray, {n} worker{'s' if n != 1 else ''}"

    @property
    def dim(self) -> int:
        return self.local.dim  # the same model: its size is known without asking the cluster

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors in the order of `texts`, computed by the actors in parallel."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._start()
        size = min(SLICE, math.ceil(len(texts) / len(self.actors)))
        slices = [texts[i:i + size] for i in range(0, len(texts), size)]
        out: list[np.ndarray | None] = [None] * len(slices)
        pending = {}  # ref -> (slice number, actor index, the actor, attempts)
        for n, part in enumerate(slices):
            k = n % len(self.actors)
            pending[self.actors[k].encode.remote(part)] = (n, k, self.actors[k], 0)
        while pending:
            [ref], _ = self._ray.wait(list(pending), num_returns=1)
            n, k, actor, attempts = pending.pop(ref)
            try:
                out[n] = self._ray.get(ref)
            except self._ray.exceptions.RayActorError as e:
                if attempts >= RETRIES:
                    raise RayError(f"a slice of {len(slices[n])} texts failed on {attempts + 1} Ray encoder actors "
                                   f"in turn ({' '.join(str(e).split())[:200]}); what was embedded before is "
                                   "staged, and the next build goes on from there") from None
                # the worker died with this slice in flight: a fresh actor takes its place and the slice
                log.warning("a Ray encoder actor died; its slice of %d texts goes to a fresh one", len(slices[n]))
                if self.actors[k] is actor:  # the first of its lost slices replaces it; the others follow
                    self._ray.kill(actor)  # an actor only unreachable for now must not live on beside its heir
                    self.actors[k] = self._new_actor()
                pending[self.actors[k].encode.remote(slices[n])] = (n, k, self.actors[k], attempts + 1)
        return np.ascontiguousarray(np.concatenate(out), dtype=np.float32)

    def close(self) -> None:
        """Stop the actors, and leave the cluster if this build joined it."""
        if self._ray is None:
            return
        for a in self.actors:
            self._ray.kill(a)
        if self._joined:
            self._ray.shutdown()
