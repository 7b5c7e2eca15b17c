"""Type stub of the package root: generated from ``PUBLIC`` by scripts/gen_stub.py."""

from finetune_kit._checks import (
    Format as Format,
    Method as Method,
    Problem as Problem,
    detect_format as detect_format,
)
from finetune_kit.catalog.prices import (
    ModelPrice as ModelPrice,
    PriceTable as PriceTable,
)
from finetune_kit.cost.estimator import (
    CostEstimator as CostEstimator,
    TrainingEstimate as TrainingEstimate,
    UsageEstimate as UsageEstimate,
    default_epochs as default_epochs,
)
from finetune_kit.dataset import (
    AnyExample as AnyExample,
    Dataset as Dataset,
    SAMPLE_SYSTEM_PROMPT as SAMPLE_SYSTEM_PROMPT,
    sample_csv_path as sample_csv_path,
)
from finetune_kit.dedupe.core import (
    dedupe_file as dedupe_file,
    find_duplicates as find_duplicates,
)
from finetune_kit.dedupe.report import (
    DedupeReport as DedupeReport,
    DedupeSavings as DedupeSavings,
    DuplicateGroup as DuplicateGroup,
    ValidationLeak as ValidationLeak,
)
from finetune_kit.dedupe.signature import (
    NearConfig as NearConfig,
)
from finetune_kit.errors import (
    APIConnectionFailed as APIConnectionFailed,
    APIError as APIError,
    AuthenticationFailed as AuthenticationFailed,
    ConfigError as ConfigError,
    DataError as DataError,
    FinetuneKitError as FinetuneKitError,
    JobCreationRefused as JobCreationRefused,
    JobFailed as JobFailed,
    JobTimeout as JobTimeout,
    PersonalDataFound as PersonalDataFound,
    ProviderUnsupported as ProviderUnsupported,
    QuotaExceeded as QuotaExceeded,
    TokenizerUnavailable as TokenizerUnavailable,
    UnknownModelError as UnknownModelError,
    ValidationFailed as ValidationFailed,
)
from finetune_kit.export.convert import (
    ExportReport as ExportReport,
    export_file as export_file,
    from_format as from_format,
    to_format as to_format,
)
from finetune_kit.export.fidelity import (
    FidelityReport as FidelityReport,
)
from finetune_kit.jobs._core import (
    RecordedWait as RecordedWait,
    RetryPolicy as RetryPolicy,
    recorded_waits as recorded_waits,
    set_testing as set_testing,
)
from finetune_kit.jobs.archive import (
    ArchiveReport as ArchiveReport,
)
from finetune_kit.jobs.client import (
    AsyncJobClient as AsyncJobClient,
    JobClient as JobClient,
)
from finetune_kit.jobs.models import (
    Checkpoint as Checkpoint,
    FileRef as FileRef,
    Job as Job,
    JobError as JobError,
    JobEvent as JobEvent,
)
from finetune_kit.lifecycle import (
    LifecycleWarning as LifecycleWarning,
    ModelLifecycle as ModelLifecycle,
    lifecycle_findings as lifecycle_findings,
)
from finetune_kit.move.compare import (
    Comparison as Comparison,
    PricePoint as PricePoint,
    TargetCost as TargetCost,
    compare as compare,
)
from finetune_kit.move.migrate import (
    Migration as Migration,
    MigrationReport as MigrationReport,
    amigrate as amigrate,
    migrate as migrate,
)
from finetune_kit.privacy.detectors import (
    pii_detector as pii_detector,
    register_detector as register_detector,
)
from finetune_kit.privacy.redaction import (
    PIIFinding as PIIFinding,
    PIIMatch as PIIMatch,
    RedactionReport as RedactionReport,
    Redactor as Redactor,
    redact_example as redact_example,
    redact_file as redact_file,
    redact_text as redact_text,
    scan_example as scan_example,
    scan_text as scan_text,
)
from finetune_kit.providers.azure import (
    azure_client as azure_client,
)
from finetune_kit.providers.base import (
    Provider as Provider,
    ProviderFacts as ProviderFacts,
)
from finetune_kit.providers.registry import (
    get_provider as get_provider,
)
from finetune_kit.reading import (
    Line as Line,
    LineProblem as LineProblem,
    iter_jsonl as iter_jsonl,
    parse_line as parse_line,
    split_ranges as split_ranges,
)
from finetune_kit.schema import (
    ContentPart as ContentPart,
    Example as Example,
    FunctionCall as FunctionCall,
    FunctionDefinition as FunctionDefinition,
    ImagePart as ImagePart,
    ImageURL as ImageURL,
    Message as Message,
    PreferenceExample as PreferenceExample,
    PreferenceInput as PreferenceInput,
    Role as Role,
    TextPart as TextPart,
    Tool as Tool,
    ToolCall as ToolCall,
)
from finetune_kit.tokens.chat import (
    ChatTokenizer as ChatTokenizer,
    ExampleTokens as ExampleTokens,
    OpenAIChatTokenizer as OpenAIChatTokenizer,
    RenderedExample as RenderedExample,
    Segment as Segment,
)
from finetune_kit.tokens.compare import (
    ModelTokens as ModelTokens,
    TokenComparison as TokenComparison,
    compare_tokens as compare_tokens,
)
from finetune_kit.tokens.counting import (
    Tokenizer as Tokenizer,
)
from finetune_kit.tokens.harmony import (
    HarmonyTokenizer as HarmonyTokenizer,
)
from finetune_kit.tokens.hf import (
    HFChatTokenizer as HFChatTokenizer,
)
from finetune_kit.tokens.registry import (
    TokenizerInfo as TokenizerInfo,
    open_model_info as open_model_info,
    tokenizer_for_model as tokenizer_for_model,
)
from finetune_kit.validation.engine import (
    Finding as Finding,
    LineResult as LineResult,
    PIIMode as PIIMode,
    Rule as Rule,
    RuleContext as RuleContext,
    Severity as Severity,
    ValidationReport as ValidationReport,
    Validator as Validator,
    rule as rule,
    validate as validate,
)
from finetune_kit.validation.fixes import (
    FixReport as FixReport,
    fix_file as fix_file,
)

__version__: str
PUBLIC: dict[str, str]
__all__: list[str]
