"""The gRPC door: voxify.proto, its generated modules, and the servicer over Services.

``voxify_pb2.py``, ``voxify_pb2.pyi`` and ``voxify_pb2_grpc.py`` are generated from
``voxify.proto`` by ``make protos`` and committed, not generated at install time: installing
Voxify (pip, an editable checkout, the container image, a Ray worker's runtime env) then needs
neither grpcio-tools nor a build hook, and the Python stubs a client imports are the ones that
were reviewed. tests/unit/test_grpc_codegen.py regenerates them and fails when they differ from
the .proto, so they cannot drift.
"""
