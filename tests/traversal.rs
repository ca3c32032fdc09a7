//! Neighbourhoods and strongest paths on hand-built graphs with known answers.
mod common;

use gmstore::{EdgeFilter, Error};

/// a -0.9-> b -0.9-> c -0.9-> d, a -0.5-> d (is_a), b -0.2-> e, d -0.9-> a (cycle)
fn graph(store: &gmstore::Store) -> [i64; 5] {
    let ids: Vec<i64> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|n| store.store_concept(n, &[1.0], None, None).unwrap())
        .collect();
    let [a, b, c, d, e] = [ids[0], ids[1], ids[2], ids[3], ids[4]];
    for (s, t, kind, w) in [
        (a, b, "r", 0.9),
        (b, c, "r", 0.9),
        (c, d, "r", 0.9),
        (a, d, "is_a", 0.5),
        (b, e, "r", 0.2),
        (d, a, "r", 0.9),
    ] {
        store.add_concept_relationship(s, t, kind, w).unwrap();
    }
    [a, b, c, d, e]
}

#[test]
fn neighbourhood_reports_fewest_hops_and_respects_filters() {
    let t = common::temp_store();
    let [a, b, c, d, e] = graph(&t.store);
    let all = EdgeFilter::default();
    let hood: Vec<(i64, u32)> = t
        .store
        .concept_neighborhood(a, 3, &all)
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.hops))
        .collect();
    assert_eq!(hood, vec![(b, 1), (d, 1), (c, 2), (e, 2)]);
    let one: Vec<i64> = t
        .store
        .concept_neighborhood(a, 1, &all)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(one, vec![b, d]);
    let typed = EdgeFilter {
        relationship_type: Some("r"),
        min_strength: 0.0,
    };
    let hood: Vec<(i64, u32)> = t
        .store
        .concept_neighborhood(a, 5, &typed)
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.hops))
        .collect();
    assert_eq!(hood, vec![(b, 1), (c, 2), (e, 2), (d, 3)]);
    let strong = EdgeFilter {
        relationship_type: None,
        min_strength: 0.6,
    };
    let names: Vec<String> = t
        .store
        .concept_neighborhood(a, 5, &strong)
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, vec!["b", "c", "d"]);
    assert!(t.store.concept_neighborhood(e, 3, &all).unwrap().is_empty());
    assert!(t.store.concept_neighborhood(a, 0, &all).unwrap().is_empty());
    assert!(matches!(
        t.store.concept_neighborhood(999, 2, &all).unwrap_err(),
        Error::NotFound(_)
    ));
    assert!(t
        .store
        .concept_neighborhood(a, 65, &all)
        .unwrap_err()
        .to_string()
        .starts_with("max_hops"));
}

#[test]
fn strongest_path_maximises_the_product_of_strengths() {
    let t = common::temp_store();
    let [a, b, c, d, e] = graph(&t.store);
    let all = EdgeFilter::default();
    // a->b->c->d = 0.729 beats the direct a->d = 0.5
    let p = t.store.strongest_path(a, d, &all).unwrap().unwrap();
    assert_eq!(p.ids, vec![a, b, c, d]);
    assert!((p.strength - 0.729).abs() < 1e-12);
    let only_is_a = EdgeFilter {
        relationship_type: Some("is_a"),
        min_strength: 0.0,
    };
    assert_eq!(
        t.store.strongest_path(a, d, &only_is_a).unwrap().unwrap().ids,
        vec![a, d]
    );
    assert_eq!(
        t.store.strongest_path(d, e, &all).unwrap().unwrap().ids,
        vec![d, a, b, e]
    );
    assert!(
        t.store.strongest_path(e, a, &all).unwrap().is_none(),
        "e has no way out"
    );
    assert_eq!(t.store.strongest_path(c, c, &all).unwrap().unwrap().strength, 1.0);
    let err = t.store.strongest_path(a, 4242, &all).unwrap_err();
    assert_eq!(err, Error::NotFound("to_id: no concept with id 4242".into()));
    assert!(t
        .store
        .strongest_path(
            a,
            d,
            &EdgeFilter {
                relationship_type: None,
                min_strength: 2.0
            }
        )
        .is_err());
}
