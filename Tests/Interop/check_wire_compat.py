"""Checks that Shadowplane's trimmed protos are wire compatible with Envoy's reference API.

For every message and enum we define (except our own API, package `shadowplane.*`), the reference (PyPI `xds-protos`, generated from
envoyproxy/data-plane-api) must have the same full name, and each of our fields must exist
there with the same number, type, label and message/enum type. Enum values must match by
name and number. Usage: check_wire_compat.py OUR_DESCRIPTOR_SET.pb
"""
import importlib
import sys

from google.protobuf import descriptor_pb2, descriptor_pool

# Importing these registers the reference descriptors in the default pool.
REFERENCE_MODULES = [
    "envoy.config.core.v3.base_pb2", "envoy.config.core.v3.address_pb2",
    "envoy.config.core.v3.config_source_pb2", "envoy.config.core.v3.grpc_service_pb2",
    "envoy.config.core.v3.health_check_pb2", "envoy.type.v3.percent_pb2",
    "envoy.type.matcher.v3.string_pb2", "envoy.type.matcher.v3.regex_pb2",
    "envoy.config.listener.v3.listener_pb2", "envoy.config.listener.v3.listener_components_pb2",
    "envoy.config.listener.v3.api_listener_pb2", "envoy.config.route.v3.route_pb2",
    "envoy.config.route.v3.route_components_pb2", "envoy.config.cluster.v3.cluster_pb2",
    "envoy.config.endpoint.v3.endpoint_pb2", "envoy.config.endpoint.v3.endpoint_components_pb2",
    "envoy.extensions.filters.network.http_connection_manager.v3.http_connection_manager_pb2",
    "envoy.extensions.filters.http.router.v3.router_pb2",
    "envoy.service.discovery.v3.discovery_pb2", "envoy.service.discovery.v3.ads_pb2",
    "envoy.service.listener.v3.lds_pb2", "envoy.service.route.v3.rds_pb2",
    "envoy.service.cluster.v3.cds_pb2", "envoy.service.endpoint.v3.eds_pb2",
    "envoy.service.runtime.v3.rtds_pb2", "google.rpc.status_pb2",
]


def main() -> int:
    for m in REFERENCE_MODULES:
        importlib.import_module(m)
    pool = descriptor_pool.Default()
    ours = descriptor_pb2.FileDescriptorSet()
    with open(sys.argv[1], "rb") as f:
        ours.ParseFromString(f.read())
    errors: list[str] = []
    checked = 0

    def check_enum(full: str, enum: descriptor_pb2.EnumDescriptorProto) -> None:
        nonlocal checked
        try:
            ref = pool.FindEnumTypeByName(full)
        except KeyError:
            errors.append(f"enum {full}: not in the reference API")
            return
        for v in enum.value:
            checked += 1
            rv = ref.values_by_name.get(v.name)
            if rv is None:
                errors.append(f"enum {full}.{v.name}: no such value in the reference")
            elif rv.number != v.number:
                errors.append(f"enum {full}.{v.name}: number {v.number}, reference {rv.number}")

    def check_message(full: str, msg: descriptor_pb2.DescriptorProto) -> None:
        nonlocal checked
        try:
            ref = pool.FindMessageTypeByName(full)
        except KeyError:
            errors.append(f"message {full}: not in the reference API")
            return
        for field in msg.field:
            checked += 1
            rf = ref.fields_by_name.get(field.name)
            where = f"{full}.{field.name}"
            if rf is None:
                errors.append(f"{where}: no such field in the reference")
                continue
            if rf.number != field.number:
                errors.append(f"{where}: number {field.number}, reference {rf.number}")
            if rf.type != field.type:
                errors.append(f"{where}: type {field.type}, reference {rf.type}")
            ref_repeated = rf.is_repeated if hasattr(rf, "is_repeated") else rf.label == 3
            if ref_repeated != (field.label == 3):
                errors.append(f"{where}: repeated differs from the reference")
            if field.type_name:
                ref_type = (rf.message_type or rf.enum_type).full_name
                if field.type_name.lstrip(".") != ref_type:
                    errors.append(f"{where}: type {field.type_name}, reference {ref_type}")
            ours_oneof = msg.oneof_decl[field.oneof_index].name if field.HasField("oneof_index") else None
            ref_oneof = rf.containing_oneof.name if rf.containing_oneof else None
            if ours_oneof != ref_oneof and not (ours_oneof or "").startswith("_"):
                errors.append(f"{where}: oneof {ours_oneof}, reference {ref_oneof}")
        for nested in msg.nested_type:
            if nested.options.map_entry:
                continue
            check_message(f"{full}.{nested.name}", nested)
        for enum in msg.enum_type:
            check_enum(f"{full}.{enum.name}", enum)

    for file in ours.file:
        # Well-known types, and Shadowplane's own API (shadowplane.*), which has no reference.
        if file.name.startswith("google/protobuf/") or file.package.startswith("shadowplane."):
            continue
        for msg in file.message_type:
            check_message(f"{file.package}.{msg.name}", msg)
        for enum in file.enum_type:
            check_enum(f"{file.package}.{enum.name}", enum)
        for svc in file.service:
            full = f"{file.package}.{svc.name}"
            try:
                ref = pool.FindServiceByName(full)
            except KeyError:
                errors.append(f"service {full}: not in the reference API")
                continue
            for m in svc.method:
                checked += 1
                rm = ref.methods_by_name.get(m.name)
                if rm is None:
                    errors.append(f"{full}/{m.name}: no such method in the reference")
                elif (rm.input_type.full_name, rm.output_type.full_name) != (
                    m.input_type.lstrip("."), m.output_type.lstrip(".")):
                    errors.append(f"{full}/{m.name}: signature differs from the reference")
    for e in errors:
        print("wire-compat:", e)
    print(f"wire-compat: {checked} fields/values/methods checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
