// PolicyTables for unit tests: small limits, its own RCU variable, freed
// with it. `max_routes` and `max_records` as the test needs.
#pragma once

#include <gtest/gtest.h>
#include <rte_malloc.h>

#include <memory>
#include <string>

#include "dataplane/policy/tables.h"

namespace hnv::test {

class SmallTables {
 public:
  explicit SmallTables(const std::string& name, uint32_t max_records = 512,
                       uint32_t max_routes = 64) {
    qsv_ = static_cast<rte_rcu_qsbr*>(
        rte_zmalloc((name + "_qsv").c_str(), rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE));
    EXPECT_NE(qsv_, nullptr);
    rte_rcu_qsbr_init(qsv_, 1);
    TableLimits limits;
    limits.name = name;
    limits.max_records = max_records;
    limits.max_routes = max_routes;
    limits.max_rds = 8;
    limits.max_peers = 64;
    limits.max_workers = 1;
    std::string error;
    t_ = PolicyTables::Create(limits, qsv_, &error);
    EXPECT_TRUE(t_ != nullptr) << error;
  }
  ~SmallTables() {
    t_.reset();
    rte_free(qsv_);
  }
  SmallTables(const SmallTables&) = delete;
  SmallTables& operator=(const SmallTables&) = delete;
  PolicyTables& operator*() { return *t_; }
  PolicyTables* operator->() { return t_.get(); }
  uint32_t max_peers() const { return 64; }

 private:
  rte_rcu_qsbr* qsv_ = nullptr;
  std::unique_ptr<PolicyTables> t_;
};

}  // namespace hnv::test
