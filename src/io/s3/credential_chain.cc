// The default credential chain and the refreshing cache around it (aws_credentials.h).
#include <chrono>
#include <mutex>

#include "io/s3/credential_sources.h"
#include "io/s3/sigv4.h"
#include "io/s3/sts_client.h"
#include "sluice/aws_credentials.h"

namespace sluice {
namespace {

double Now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

class StaticProvider : public AwsCredentialsProvider {
 public:
  explicit StaticProvider(AwsCredentials c) : c_(std::move(c)) {}
  Result<AwsCredentials> Get() override { return c_; }
  void Invalidate() override {}

 private:
  AwsCredentials c_;
};

/// Tries the sources in order; holds what it found and refreshes it before it expires.
class ChainProvider : public AwsCredentialsProvider {
 public:
  Result<AwsCredentials> Get() override {
    const double now = Now();
    {
      std::unique_lock lock(mu_);
      if (have_ && Fresh(now)) return current_;
      if (have_ && now < HardDeadline()) {
        // Inside the refresh window but still valid: one caller refreshes, the rest sign on.
        std::unique_lock refreshing(refresh_mu_, std::try_to_lock);
        if (!refreshing.owns_lock()) return current_;
        const AwsCredentials keep = current_;
        lock.unlock();
        auto fresh = Resolve();
        lock.lock();
        if (fresh.ok()) Store(*fresh, Now());
        return have_ ? current_ : keep;  // a failed refresh keeps the valid keys for now
      }
    }
    // None yet, invalidated, or about to expire: everyone waits for one refresh.
    std::lock_guard refreshing(refresh_mu_);
    {
      std::lock_guard lock(mu_);
      if (have_ && Now() < HardDeadline()) return current_;  // another caller just refreshed
    }
    ASSIGN_OR_RETURN(AwsCredentials fresh, Resolve());
    std::lock_guard lock(mu_);
    Store(fresh, Now());
    if (current_.expires_at > 0 && Now() >= current_.expires_at) {
      return Status::InvalidArgument("the " + current_.provider + " credentials had already expired when they arrived (expiration " +
                                     s3::FormatAwsTime(current_.expires_at) + "); is this machine's clock right?");
    }
    return current_;
  }

  void Invalidate() override {
    std::lock_guard lock(mu_);
    have_ = false;
  }

 private:
  // Temporary keys are refreshed in the last quarter of their life, at most 5 minutes before
  // they expire (one caller, the others keep signing); in the last eighth, at most 1 minute,
  // nobody signs with them any more (a request may take that long to reach the service).
  bool Fresh(double now) const {
    if (current_.expires_at == 0) return true;
    const double life = current_.expires_at - obtained_at_;
    return now < current_.expires_at - std::min(300.0, life / 4);
  }
  double HardDeadline() const {
    if (current_.expires_at == 0) return 1e300;
    const double life = current_.expires_at - obtained_at_;
    return current_.expires_at - std::min(60.0, life / 8);
  }
  void Store(const AwsCredentials& c, double now) {
    current_ = c;
    obtained_at_ = now;
    have_ = true;
  }

  /// The first configured source's credentials; an error lists every source tried.
  Result<AwsCredentials> Resolve() {
    s3::SourceContext ctx;
    ASSIGN_OR_RETURN(ctx.files, s3::ReadAwsFiles());
    ctx.profile = s3::ProfileName();
    ctx.profile_named = !s3::Env("AWS_PROFILE").empty();
    ctx.http = &http_;
    std::string tried;
    using Source = s3::SourceResult (*)(const s3::SourceContext&, std::string*);
    const std::pair<const char*, Source> sources[] = {
        {"environment", [](const s3::SourceContext&, std::string* w) { return s3::EnvironmentCredentials(w); }},
        {"profile", s3::ProfileCredentials},
        {"web identity", s3::WebIdentityFromEnvironment},
        {"container", s3::ContainerCredentials},
        {"instance metadata", s3::InstanceMetadataCredentials},
    };
    for (const auto& [name, source] : sources) {
      std::string why;
      // Configured but failed: the error (which names the source) ends the chain.
      ASSIGN_OR_RETURN(std::optional<AwsCredentials> c, source(ctx, &why));
      if (c) return *c;
      tried += (tried.empty() ? "" : "; ") + std::string(name) + ": " + why;
    }
    return Status::NotFound("no AWS credentials found; tried " + tried +
                            " (for public buckets set AWS_NO_SIGN_REQUEST=true)");
  }

  s3::HttpClient http_{2};
  std::mutex refresh_mu_;  // one refresh at a time; taken before mu_
  std::mutex mu_;
  AwsCredentials current_;
  double obtained_at_ = 0;
  bool have_ = false;
};

}  // namespace

std::shared_ptr<AwsCredentialsProvider> StaticCredentialsProvider(AwsCredentials credentials) {
  return std::make_shared<StaticProvider>(std::move(credentials));
}

std::shared_ptr<AwsCredentialsProvider> DefaultCredentialsChain() { return std::make_shared<ChainProvider>(); }

std::string DescribeCredentialsJson(const AwsCredentials& c) {
  const auto hex = [](const std::string& s) { return s.empty() ? std::string("null") : "\"" + s3::Sha256Hex(s) + "\""; };
  return "{\"provider\":\"" + c.provider + "\",\"access_key_id\":\"" + c.access_key + "\",\"secret_sha256\":" + hex(c.secret_key) +
         ",\"session_token_sha256\":" + hex(c.session_token) + ",\"expiration\":" +
         (c.expires_at > 0 ? "\"" + s3::FormatAwsTime(c.expires_at) + "\"" : std::string("null")) + "}";
}

}  // namespace sluice
