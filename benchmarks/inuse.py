"""In-use discovery cost: API calls (per operation) to inventory 1,000 ECS tasks and 200 Lambda functions.

Runs the product's own adapters (``EcsInventory``, ``LambdaInventory``) through the planner's
``discover_in_use`` against moto's ECS and Lambda, in-process, and reads the calls from the
emulator's per-operation counters (``emu.calls`` counts other services as ``"ecs:ListTasks"``).
moto returns ListTasks/ListFunctions in one page where AWS pages by 100 and 50; the table shows
the count AWS would bill next to the measured one.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_ecs.type_defs import NetworkConfigurationTypeDef

REGION = "us-east-1"
HOST = f"123456789012.dkr.ecr.{REGION}.amazonaws.com"


def _ecs(tasks: int, clusters: int, families_per_cluster: int) -> None:
    import boto3

    ecs = boto3.client("ecs", region_name=REGION)
    ec2 = boto3.client("ec2", region_name=REGION)
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    network: NetworkConfigurationTypeDef = {
        "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}
    }
    per_cluster = tasks // clusters
    for c in range(clusters):
        cluster = f"cluster-{c}"
        ecs.create_cluster(clusterName=cluster)
        for f in range(families_per_cluster):
            family = f"app-{c}-{f}"
            ecs.register_task_definition(
                family=family,
                containerDefinitions=[
                    {"name": "app", "image": f"{HOST}/team/app-{c}:v{f}", "memory": 128},
                    {
                        "name": "sidecar",
                        "image": "public.ecr.aws/aws-observability/aws-otel-collector:latest",
                        "memory": 64,
                    },
                ],
                requiresCompatibilities=["FARGATE"],
                networkMode="awsvpc",
                cpu="256",
                memory="512",
            )
            ecs.create_service(
                cluster=cluster,
                serviceName=family,
                taskDefinition=family,
                desiredCount=0,
                launchType="FARGATE",
                networkConfiguration=network,
            )
        started = 0
        while started < per_cluster:
            family = f"app-{c}-{started % families_per_cluster}"
            count = min(10, per_cluster - started)
            ecs.run_task(
                cluster=cluster,
                taskDefinition=family,
                launchType="FARGATE",
                count=count,
                networkConfiguration=network,
            )
            started += count


def _lambda(functions: int) -> None:
    import boto3

    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName="bench-fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=REGION)
    for i in range(functions):
        name = f"fn-{i:03d}"
        lam.create_function(
            FunctionName=name,
            Role=role,
            PackageType="Image",
            Code={"ImageUri": f"{HOST}/team/fn-{i % 20}:v1"},
        )
        if i % 2 == 0:  # half the functions route an alias to a published version
            version = lam.publish_version(FunctionName=name)["Version"]
            lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)


def run_inuse(tasks: int = 1000, functions: int = 200, clusters: int = 10) -> dict[str, Any]:
    from ecr_archiver.adapters import clients
    from ecr_archiver.adapters.ecs import EcsInventory
    from ecr_archiver.adapters.lambda_ import LambdaInventory
    from ecr_archiver.archiving.inuse import discover_in_use
    from ecr_emulator import emulated_aws

    out: dict[str, Any] = {"tasks": tasks, "functions": functions, "clusters": clusters}
    with emulated_aws(region=REGION) as emu:
        clients.clear_client_cache()
        _ecs(tasks, clusters, families_per_cluster=5)
        _lambda(functions)
        emu.reset_calls()
        started = time.perf_counter()
        found = discover_in_use([EcsInventory()])
        out["ecs_seconds"] = time.perf_counter() - started
        out["ecs_calls"] = dict(sorted(Counter(emu.calls).items()))
        out["ecs_repositories"] = len(found.repositories)
        emu.reset_calls()
        started = time.perf_counter()
        found = discover_in_use([LambdaInventory()])
        out["lambda_seconds"] = time.perf_counter() - started
        out["lambda_calls"] = dict(sorted(Counter(emu.calls).items()))
        out["lambda_repositories"] = len(found.repositories)
        clients.clear_client_cache()
    # AWS pages ListTasks by 100 (per cluster and desired status) and ListFunctions by 50; moto
    # answers each in one page, so add the pages AWS would need.
    per_cluster = tasks // clusters
    out["ecs_calls_aws"] = {
        **out["ecs_calls"],
        "ecs:ListTasks": clusters * (max(1, math.ceil(per_cluster / 100)) + 1),
    }
    out["lambda_calls_aws"] = {
        **out["lambda_calls"],
        "awslambda:ListFunctions": max(1, math.ceil(functions / 50)),
    }
    out["ecs_total"] = sum(out["ecs_calls"].values())
    out["lambda_total"] = sum(out["lambda_calls"].values())
    out["ecs_total_aws"] = sum(out["ecs_calls_aws"].values())
    out["lambda_total_aws"] = sum(out["lambda_calls_aws"].values())
    return out


if __name__ == "__main__":
    print(json.dumps(run_inuse(), indent=2))
