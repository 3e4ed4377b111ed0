"""Security invariants of the deployed stack, as functions returning violations.

Each function reads the template *after* the SAM transform (``tests.template.test_template.
sam_transform``), so what SAM generates (event rules, event source mappings, API methods,
EventInvokeConfig) is checked as well as what we wrote. Returning violations instead of asserting
lets a test feed a broken template and prove each check can fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: The only actions allowed on ``Resource: "*"``: IAM defines no resource type for them (Service
#: Authorization Reference), or, for ecs:ListTasks, authorises them against container instances
#: that a cluster-wide listing cannot name. The test asserts the template uses exactly these.
UNSCOPED_ACTIONS = frozenset(
    {
        # plan_archive's in-use discovery
        "ecs:ListClusters",
        "ecs:ListServices",
        "ecs:ListTasks",
        "ecs:DescribeTaskDefinition",
        "lambda:ListFunctions",
        # sync_exclusions: the pull-time exclusion list is registry-wide
        "ecr:ListPullTimeUpdateExclusions",
        "ecr:RegisterPullTimeUpdateExclusion",
        "ecr:DeregisterPullTimeUpdateExclusion",
        # every function: X-Ray has no resource-level permissions
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
)


# -- reading CloudFormation ---------------------------------------------------------------------
def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def target_of(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at (``None`` for anything else)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def of_type(cfn: dict[str, Any], *types: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in cfn["Resources"].items() if r["Type"] in types}


def props(resource: dict[str, Any]) -> dict[str, Any]:
    return dict(resource.get("Properties", {}))


def identity_statements(cfn: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, statement) for every statement of every identity policy in the stack."""
    for name, role in of_type(cfn, "AWS::IAM::Role").items():
        for policy in props(role).get("Policies", []):
            for stmt in as_list(policy["PolicyDocument"]["Statement"]):
                yield f"{name}/{policy['PolicyName']}", stmt
    for name, policy in of_type(cfn, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy").items():
        for stmt in as_list(props(policy)["PolicyDocument"]["Statement"]):
            yield name, stmt


def _allows(stmt: dict[str, Any]) -> bool:
    return stmt.get("Effect") == "Allow"


# -- IAM ----------------------------------------------------------------------------------------
def role_violations(cfn: dict[str, Any]) -> list[str]:
    """Each function has a role of its own, assumable only by Lambda, with only inline policies."""
    out: list[str] = []
    roles = of_type(cfn, "AWS::IAM::Role")
    owners: dict[str, str] = {}
    for fn, res in sorted(of_type(cfn, "AWS::Lambda::Function").items()):
        role = target_of(props(res).get("Role"))
        if role not in roles:
            out.append(f"{fn}: Role is not a role of this stack ({props(res).get('Role')})")
            continue
        if role in owners:
            out.append(f"{fn} and {owners[role]} share role {role}")
            continue
        owners[role] = fn
        trust = props(roles[role])["AssumeRolePolicyDocument"]["Statement"]
        principals = {p for s in as_list(trust) for p in as_list(s.get("Principal", {}).get("Service", []))}
        if principals != {"lambda.amazonaws.com"}:
            out.append(f"{role}: assumable by {sorted(principals)}, not only lambda.amazonaws.com")
        if props(roles[role]).get("ManagedPolicyArns"):
            managed = props(roles[role])["ManagedPolicyArns"]
            out.append(f"{role}: managed policies {managed} (write inline ones)")
    return out


def wildcard_action_violations(cfn: dict[str, Any]) -> list[str]:
    """No ``Action: "*"``, no service-wide (``ecr:*``) or partial (``ecs:List*``) wildcards, no NotAction."""
    out: list[str] = []
    for where, stmt in identity_statements(cfn):
        if not _allows(stmt):
            continue
        if "NotAction" in stmt:
            out.append(f"{where}: Allow with NotAction")
        for action in as_list(stmt.get("Action", [])):
            if "*" in str(action):
                out.append(f"{where}: wildcard action {action}")
    return out


def unscoped_actions(cfn: dict[str, Any]) -> set[str]:
    """Every action some identity policy allows on ``Resource: "*"``."""
    return {
        str(action)
        for _, stmt in identity_statements(cfn)
        if _allows(stmt) and "*" in as_list(stmt.get("Resource", []))
        for action in as_list(stmt.get("Action", []))
    }


def unscoped_resource_violations(cfn: dict[str, Any]) -> list[str]:
    """``Resource: "*"`` only for :data:`UNSCOPED_ACTIONS`; no NotResource."""
    out: list[str] = []
    for where, stmt in identity_statements(cfn):
        if not _allows(stmt):
            continue
        if "NotResource" in stmt:
            out.append(f"{where}: Allow with NotResource")
        if "*" in as_list(stmt.get("Resource", [])):
            out.extend(
                f"{where}: {action} on Resource '*' (IAM can scope it)"
                for action in as_list(stmt.get("Action", []))
                if action not in UNSCOPED_ACTIONS
            )
    return out


# -- API ----------------------------------------------------------------------------------------
def api_auth_violations(cfn: dict[str, Any]) -> list[str]:
    """Every API method requires SigV4 (AWS_IAM); nothing else opens a function to the internet."""
    out: list[str] = []
    for name, api in of_type(cfn, "AWS::ApiGateway::RestApi").items():
        body = props(api).get("Body")
        if not body:
            out.append(f"{name}: no inline definition to check")
            continue
        for path, methods in body.get("paths", {}).items():
            for method, operation in methods.items():
                security = operation.get("security")
                if security != [{"AWS_IAM": []}]:
                    out.append(f"{name}: {method.upper()} {path} is not AWS_IAM ({security})")
    for name, method in of_type(cfn, "AWS::ApiGateway::Method").items():
        if props(method).get("AuthorizationType") != "AWS_IAM":
            out.append(f"{name}: AuthorizationType {props(method).get('AuthorizationType')}")
    for name in of_type(cfn, "AWS::ApiGatewayV2::Api"):
        out.append(f"{name}: HTTP/WebSocket API (only the IAM-authorised REST API is expected)")
    for name, url in of_type(cfn, "AWS::Lambda::Url").items():
        if props(url).get("AuthType") != "AWS_IAM":
            out.append(f"{name}: function URL without AWS_IAM")
    for name, permission in of_type(cfn, "AWS::Lambda::Permission").items():
        if props(permission).get("Principal") == "*":
            out.append(f"{name}: anyone may invoke the function")
    return out


# -- data at rest and in transit -------------------------------------------------------------------
def encryption_violations(cfn: dict[str, Any]) -> list[str]:
    """Every queue, topic and bucket is encrypted at rest."""
    out: list[str] = []
    for name, queue in of_type(cfn, "AWS::SQS::Queue").items():
        p = props(queue)
        if p.get("SqsManagedSseEnabled") is not True and "KmsMasterKeyId" not in p:
            out.append(f"{name}: queue not encrypted (SqsManagedSseEnabled or KmsMasterKeyId)")
    for name, topic in of_type(cfn, "AWS::SNS::Topic").items():
        if "KmsMasterKeyId" not in props(topic):
            out.append(f"{name}: topic not encrypted (KmsMasterKeyId)")
    for name, bucket in of_type(cfn, "AWS::S3::Bucket").items():
        rules = props(bucket).get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration")
        if not rules:
            out.append(f"{name}: bucket without default encryption")
    return out


def _denies_plain_http(stmt: dict[str, Any]) -> bool:
    return (
        stmt.get("Effect") == "Deny"
        and stmt.get("Principal") in ("*", {"AWS": "*"})
        and stmt.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    )


def bucket_violations(cfn: dict[str, Any]) -> list[str]:
    """Every bucket blocks public access and denies requests without TLS, on itself and its objects."""
    out: list[str] = []
    policies = of_type(cfn, "AWS::S3::BucketPolicy")
    for name, bucket in of_type(cfn, "AWS::S3::Bucket").items():
        block = props(bucket).get("PublicAccessBlockConfiguration", {})
        flags = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        missing = [f for f in flags if block.get(f) is not True]
        if missing:
            out.append(f"{name}: public access not blocked ({', '.join(missing)})")
        statements = [
            stmt
            for policy in policies.values()
            if target_of(props(policy).get("Bucket")) == name
            for stmt in as_list(props(policy)["PolicyDocument"]["Statement"])
        ]
        tls = [s for s in statements if _denies_plain_http(s) and "s3:*" in as_list(s.get("Action"))]
        resources = [r for s in tls for r in as_list(s.get("Resource"))]
        objects = {"Fn::Sub": f"${{{name}.Arn}}/*"}
        if {"Fn::GetAtt": [name, "Arn"]} not in resources or objects not in resources:
            out.append(f"{name}: no TLS-only (aws:SecureTransport) deny on the bucket and its objects")
    return out


# -- operability ----------------------------------------------------------------------------------
def when_on(value: Any) -> Any:
    """``{"Fn::If": [cond, on, {"Ref": "AWS::NoValue"}]}`` -> ``on``: a setting an operator may turn off."""
    if isinstance(value, dict) and "Fn::If" in value:
        _, on, off = value["Fn::If"]
        assert off == {"Ref": "AWS::NoValue"}, value
        return on
    return value


def log_group_violations(cfn: dict[str, Any]) -> list[str]:
    """Every function (and API stage) logs to a log group of this stack that has a retention."""
    out: list[str] = []
    groups = of_type(cfn, "AWS::Logs::LogGroup")
    for name, group in groups.items():
        if "RetentionInDays" not in props(group):
            out.append(f"{name}: log group without RetentionInDays")
    for fn, res in of_type(cfn, "AWS::Lambda::Function").items():
        group = target_of(props(res).get("LoggingConfig", {}).get("LogGroup"))
        if group not in groups:
            out.append(f"{fn}: LoggingConfig.LogGroup is not a log group of this stack")
    for stage, res in of_type(cfn, "AWS::ApiGateway::Stage").items():
        group = target_of(when_on(props(res).get("AccessLogSetting", {})).get("DestinationArn"))
        if group not in groups:
            out.append(f"{stage}: access logs do not go to a log group of this stack")
    return out


def dead_letter_queues(cfn: dict[str, Any]) -> set[str]:
    """Every queue that is some path's dead-letter queue."""
    out: set[str] = set()
    for queue in of_type(cfn, "AWS::SQS::Queue").values():
        out.add(str(target_of(props(queue).get("RedrivePolicy", {}).get("deadLetterTargetArn"))))
    for rule in of_type(cfn, "AWS::Events::Rule").values():
        for target in props(rule).get("Targets", []):
            out.add(str(target_of(target.get("DeadLetterConfig", {}).get("Arn"))))
    for schedule in of_type(cfn, "AWS::Scheduler::Schedule").values():
        out.add(str(target_of(props(schedule)["Target"].get("DeadLetterConfig", {}).get("Arn"))))
    for fn in of_type(cfn, "AWS::Lambda::Function").values():
        out.add(str(target_of(props(fn).get("DeadLetterConfig", {}).get("TargetArn"))))
    for config in of_type(cfn, "AWS::Lambda::EventInvokeConfig").values():
        failure = props(config).get("DestinationConfig", {}).get("OnFailure", {})
        out.add(str(target_of(failure.get("Destination"))))
    return out & set(of_type(cfn, "AWS::SQS::Queue"))


def dead_letter_violations(cfn: dict[str, Any]) -> list[str]:
    """A dead-letter queue on every asynchronous path: queues, rule and schedule targets, async invokes."""
    out: list[str] = []
    queues = of_type(cfn, "AWS::SQS::Queue")
    functions = of_type(cfn, "AWS::Lambda::Function")
    for name, mapping in of_type(cfn, "AWS::Lambda::EventSourceMapping").items():
        source = target_of(props(mapping).get("EventSourceArn"))
        if source in queues:
            dlq = target_of(props(queues[source]).get("RedrivePolicy", {}).get("deadLetterTargetArn"))
            if dlq not in queues:
                out.append(f"{source}: consumed by {name} but has no RedrivePolicy to a queue of this stack")
    async_functions: dict[str, str] = {}
    for name, rule in of_type(cfn, "AWS::Events::Rule").items():
        for target in props(rule).get("Targets", []):
            if target_of(target.get("DeadLetterConfig", {}).get("Arn")) not in queues:
                out.append(f"{name}: target {target.get('Id')} has no DeadLetterConfig")
            if target_of(target.get("Arn")) in functions:
                async_functions[str(target_of(target["Arn"]))] = name
    for name, schedule in of_type(cfn, "AWS::Scheduler::Schedule").items():
        target = props(schedule)["Target"]
        if target_of(target.get("DeadLetterConfig", {}).get("Arn")) not in queues:
            out.append(f"{name}: schedule target has no DeadLetterConfig")
        if target_of(target.get("Arn")) in functions:
            async_functions[str(target_of(target["Arn"]))] = name
    on_failure = {
        target_of(props(c).get("FunctionName"))
        for c in of_type(cfn, "AWS::Lambda::EventInvokeConfig").values()
        if target_of(props(c).get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")) in queues
    }
    for fn, source in sorted(async_functions.items()):
        has_dlq = target_of(props(functions[fn]).get("DeadLetterConfig", {}).get("TargetArn")) in queues
        if not has_dlq and fn not in on_failure:
            out.append(f"{fn}: invoked asynchronously by {source}, but failed invocations are dropped")
    return out


def _alarms(cfn: dict[str, Any]) -> list[dict[str, Any]]:
    return [props(a) for a in of_type(cfn, "AWS::CloudWatch::Alarm").values()]


def _alarmed(alarms: list[dict[str, Any]], namespace: str, metric: str, dimension: str, value: Any) -> bool:
    return any(
        a.get("Namespace") == namespace
        and a.get("MetricName") == metric
        and {"Name": dimension, "Value": value} in a.get("Dimensions", [])
        and a.get("AlarmActions")
        for a in alarms
    )


def alarm_violations(cfn: dict[str, Any]) -> list[str]:
    """Alarms, with actions, on every function's errors and throttles, every DLQ's depth, API 5xx."""
    out: list[str] = []
    alarms = _alarms(cfn)
    topics = set(of_type(cfn, "AWS::SNS::Topic"))
    for alarm_name, res in of_type(cfn, "AWS::CloudWatch::Alarm").items():
        actions = [target_of(a) for a in props(res).get("AlarmActions", [])]
        if not actions or not set(actions) <= topics:
            out.append(f"{alarm_name}: AlarmActions must notify a topic of this stack")
    for fn in sorted(of_type(cfn, "AWS::Lambda::Function")):
        for metric in ("Errors", "Throttles"):
            if not _alarmed(alarms, "AWS/Lambda", metric, "FunctionName", {"Ref": fn}):
                out.append(f"{fn}: no alarm on {metric}")
    for queue in sorted(dead_letter_queues(cfn)):
        value = {"Fn::GetAtt": [queue, "QueueName"]}
        if not _alarmed(alarms, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", value):
            out.append(f"{queue}: dead-letter queue without a depth alarm")
    for name, api in of_type(cfn, "AWS::ApiGateway::RestApi").items():
        if not _alarmed(alarms, "AWS/ApiGateway", "5XXError", "ApiName", props(api).get("Name")):
            out.append(f"{name}: no alarm on 5XXError")
    return out


def checkov_skip_violations(template: dict[str, Any]) -> list[str]:
    """Every checkov suppression in the (untransformed) template says why."""
    out: list[str] = []
    for name, res in template["Resources"].items():
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
            if not str(skip.get("id", "")).startswith("CKV"):
                out.append(f"{name}: checkov skip without a check id")
            if len(str(skip.get("comment", "")).split()) < 5:
                out.append(f"{name}: checkov skip {skip.get('id')} without a justification")
    return out
